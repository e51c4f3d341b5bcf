using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using ImageTools.Definitions;

namespace ImageTools.Commands
{
    /// <summary>Completes -Name with the image names of the tree at -Path (or the current location).</summary>
    public sealed class ImageNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var root = fakeBoundParameters.Contains("Path") ? fakeBoundParameters["Path"]?.ToString() : null;
            var location = Runspace.DefaultRunspace?.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath;
            var directory = System.IO.Path.Combine(location ?? System.IO.Directory.GetCurrentDirectory(), root ?? ".");
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return TreeScanner.ListNames(directory)
                .Where(pattern.IsMatch)
                .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name))
                .ToList();
        }
    }
}
