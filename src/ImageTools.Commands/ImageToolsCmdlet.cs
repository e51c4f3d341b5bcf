using System.Management.Automation;
using System.Threading;

namespace ImageTools.Commands
{
    /// <summary>
    /// What every ImageTools cmdlet shares: one cancellation token that <see cref="StopProcessing"/>
    /// (Ctrl+C, a stopped pipeline) cancels and every engine call runs under, and the translation of
    /// engine faults into error records (<see cref="ErrorRecords"/>), so ErrorIds, categories, targets
    /// and the Azure Pipelines logging lines are the same in all of them.
    /// </summary>
    public abstract class ImageToolsCmdlet : PSCmdlet
    {
        private readonly CancellationTokenSource _cancellation = new CancellationTokenSource();

        /// <summary>The token engine work runs under; cancelled when the command is stopped.</summary>
        protected CancellationToken StopToken => _cancellation.Token;

        /// <summary>The durations of this run's phases, written by <see cref="WritePhaseTimings"/> (-Verbose).</summary>
        internal PhaseTimings Phases { get; } = new PhaseTimings();

        /// <summary>At the end of a run: one verbose line per phase with its duration.</summary>
        protected void WritePhaseTimings() => Phases.WriteTo(this);

        protected override void StopProcessing() => _cancellation.Cancel();

        /// <summary>Stops the engine work from the cmdlet itself, where PowerShell does not call StopProcessing (a failed write).</summary>
        protected void CancelRun() => _cancellation.Cancel();

        /// <summary>Ends the command for unusable input: a tree's problems each as its own error, then the terminating one.</summary>
        protected void ThrowTerminating(ImageToolsException error) => ErrorRecords.ThrowTerminating(this, error);

        /// <summary>A per-image failure: WriteError with its ErrorId and target (and a logging line in Azure Pipelines); the run goes on.</summary>
        protected void WriteImageError(ImageToolsException error) => ErrorRecords.WriteImageError(this, error);

        /// <summary>A warning, with a logging line in Azure Pipelines.</summary>
        protected void WriteImageWarning(string message, string? filePath = null, int? line = null) =>
            ErrorRecords.WriteImageWarning(this, message, filePath, line);
    }
}
