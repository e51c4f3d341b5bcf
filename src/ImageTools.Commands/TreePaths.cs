using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using ImageTools.Definitions;

namespace ImageTools.Commands
{
    /// <summary>
    /// Turns a -Path as the user typed it into file-system paths. PowerShell's location is not the
    /// process's current directory, so relative paths must go through the session state.
    /// </summary>
    internal static class TreePaths
    {
        /// <summary>The file-system paths <paramref name="path"/> names (wildcards expand); a missing path is <c>TreeNotFound</c>.</summary>
        public static IReadOnlyList<string> Resolve(PSCmdlet cmdlet, string path)
        {
            Collection<string> resolved;
            ProviderInfo provider;
            try { resolved = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out provider); }
            catch (ItemNotFoundException e)
            {
                // Named by its full path, as the scanner names it, so every cmdlet reports the same.
                throw TreeScanner.TreeNotFound(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path), e);
            }
            if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                throw new ImageToolsException("PathNotFileSystem", FaultKind.InvalidArgument,
                    $"'{path}' is on the {provider.Name} provider; -Path must be a directory on the file system.");
            return resolved;
        }

        /// <summary>One tree root; a missing path is <c>TreeNotFound</c>, a wildcard matching several is an error.</summary>
        public static string ResolveSingle(PSCmdlet cmdlet, string path)
        {
            var resolved = Resolve(cmdlet, path);
            if (resolved.Count != 1)
                throw new ImageToolsException("AmbiguousPath", FaultKind.InvalidArgument,
                    $"-Path '{path}' matches {resolved.Count} directories; name exactly one image tree.");
            return resolved[0];
        }
    }
}
