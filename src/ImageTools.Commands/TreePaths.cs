using System.Collections.Generic;
using System.Management.Automation;

namespace ImageTools.Commands
{
    /// <summary>
    /// Turns a -Path as the user typed it into file-system paths. PowerShell's location is not the
    /// process's current directory, so relative paths must go through the session state.
    /// </summary>
    internal static class TreePaths
    {
        public static IReadOnlyList<string> Resolve(PSCmdlet cmdlet, string path)
        {
            var resolved = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
            if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                throw new ImageToolsException("PathNotFileSystem", FaultKind.InvalidArgument,
                    $"'{path}' is on the {provider.Name} provider; -Path must be a directory on the file system.");
            return resolved;
        }

        /// <summary>One tree root; a missing path is <c>TreeNotFound</c>, a wildcard matching several is an error.</summary>
        public static string ResolveSingle(PSCmdlet cmdlet, string path)
        {
            IReadOnlyList<string> resolved;
            try { resolved = Resolve(cmdlet, path); }
            catch (ItemNotFoundException e)
            {
                throw new ImageToolsException("TreeNotFound", FaultKind.ObjectNotFound,
                    $"The image tree directory '{path}' does not exist. Pass -Path with a directory that holds image directories.", inner: e);
            }
            if (resolved.Count != 1)
                throw new ImageToolsException("AmbiguousPath", FaultKind.InvalidArgument,
                    $"-Path '{path}' matches {resolved.Count} directories; name exactly one image tree.");
            return resolved[0];
        }
    }
}
