using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using ImageTools.Definitions;

namespace ImageTools.Commands
{
    /// <summary>Completes -Name with the image names of the tree at -Path (or the current location).</summary>
    public sealed class ImageNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            // A completer that throws makes PowerShell fall back to file names: offer nothing instead.
            try
            {
                var typedPath = fakeBoundParameters.Contains("Path") ? fakeBoundParameters["Path"]?.ToString() : null;
                var directory = ResolveInCurrentRunspace(string.IsNullOrEmpty(typedPath) ? "." : typedPath!);
                if (directory == null) return Array.Empty<CompletionResult>();
                var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
                return TreeScanner.ListNames(directory)
                    .Where(pattern.IsMatch)
                    .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name))
                    .ToList();
            }
            catch (Exception)
            {
                return Array.Empty<CompletionResult>();
            }
        }

        /// <summary>
        /// The file-system path of <paramref name="path"/> relative to PowerShell's location. Completion
        /// runs inside a pipeline, where SessionStateProxy refuses calls, so this asks through a nested
        /// pipeline of the current runspace.
        /// </summary>
        private static string? ResolveInCurrentRunspace(string path)
        {
            using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
            shell.AddCommand("Microsoft.PowerShell.Management\\Resolve-Path").AddParameter("LiteralPath", path);
            var resolved = shell.Invoke<PathInfo>();
            return resolved.Count == 1 && resolved[0].Provider.Name == "FileSystem" ? resolved[0].ProviderPath : null;
        }
    }
}
