using System;
using System.Management.Automation;
using ImageTools.Definitions;

namespace ImageTools.Commands
{
    /// <summary>The one place engine faults become PowerShell error records.</summary>
    internal static class ErrorRecords
    {
        public static ErrorRecord From(ImageToolsException error) =>
            new ErrorRecord(error, error.ErrorId, CategoryOf(error.Kind), error.Target);

        public static ErrorRecord From(Exception error, string errorId, ErrorCategory category, object? target) =>
            new ErrorRecord(error, errorId, category, target);

        /// <summary>A literal -Name that matches no image: a per-name error, the command goes on.</summary>
        public static ErrorRecord ImageNotFound(string name, string root) =>
            From(new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound,
                $"There is no image named '{name}' in the tree at {root}. Run Get-ImageGraph -Path {root} to list the names.", imageName: name));

        /// <summary>
        /// Stops the command for unusable input. A tree with several problems writes each as its own
        /// error (own ErrorId and target) before the terminating summary, so one run shows them all.
        /// </summary>
        public static void ThrowTerminating(PSCmdlet cmdlet, ImageToolsException error)
        {
            if (error is ImageTreeException tree)
            {
                if (tree.Errors.Count == 1) cmdlet.ThrowTerminatingError(From(tree.Errors[0]));
                foreach (var each in tree.Errors) cmdlet.WriteError(From(each));
            }
            cmdlet.ThrowTerminatingError(From(error));
        }

        private static ErrorCategory CategoryOf(FaultKind kind) => kind switch
        {
            FaultKind.InvalidData => ErrorCategory.InvalidData,
            FaultKind.InvalidArgument => ErrorCategory.InvalidArgument,
            FaultKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
            FaultKind.ResourceExists => ErrorCategory.ResourceExists,
            FaultKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            FaultKind.AuthenticationError => ErrorCategory.AuthenticationError,
            FaultKind.InvalidOperation => ErrorCategory.InvalidOperation,
            _ => ErrorCategory.NotSpecified,
        };
    }
}
