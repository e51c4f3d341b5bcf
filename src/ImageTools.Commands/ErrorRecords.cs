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

        /// <summary>
        /// WriteError, and in Azure Pipelines (TF_BUILD) also a logging command, so the error shows
        /// in the run's summary and not only in the log.
        /// </summary>
        public static void WriteImageError(PSCmdlet cmdlet, ImageToolsException error)
        {
            cmdlet.WriteError(From(error));
            if (AzureDevOps.IsPipeline()) WriteToHost(cmdlet, AzureDevOps.LogIssue(true, error.Message, error.FilePath, error.Line, error.ErrorId));
        }

        /// <summary>WriteWarning, and in Azure Pipelines also a logging command.</summary>
        public static void WriteImageWarning(PSCmdlet cmdlet, string message, string? filePath = null, int? line = null)
        {
            cmdlet.WriteWarning(message);
            if (AzureDevOps.IsPipeline()) WriteToHost(cmdlet, AzureDevOps.LogIssue(false, message, filePath, line));
        }

        // Logging commands must reach the agent's stdout: the host stream, as Write-Host does it (never System.Console).
        private static void WriteToHost(PSCmdlet cmdlet, string line) =>
            cmdlet.WriteInformation(new HostInformationMessage { Message = line, NoNewLine = false }, new[] { "PSHOST" });

        /// <summary>A literal -Name that matches no image: a per-name error (and logging command), the command goes on.</summary>
        public static void WriteImageNotFound(PSCmdlet cmdlet, string name, string root) =>
            WriteImageError(cmdlet, new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound,
                $"There is no image named '{name}' in the tree at {root}. Run Get-ImageGraph -Path {root} to list the names.", imageName: name));

        /// <summary>
        /// Stops the command for unusable input. A tree with several problems writes each as its own
        /// error (own ErrorId and target) before the terminating summary, so one run shows them all.
        /// </summary>
        public static void ThrowTerminating(PSCmdlet cmdlet, ImageToolsException error)
        {
            if (error is ImageTreeException tree && tree.Errors.Count > 1)
            {
                // Each problem was logged on its own; the summary only stops the command.
                foreach (var each in tree.Errors) WriteImageError(cmdlet, each);
                cmdlet.ThrowTerminatingError(From(error));
            }
            if (error is ImageTreeException single) error = single.Errors[0];
            if (AzureDevOps.IsPipeline()) WriteToHost(cmdlet, AzureDevOps.LogIssue(true, error.Message, error.FilePath, error.Line, error.ErrorId));
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
