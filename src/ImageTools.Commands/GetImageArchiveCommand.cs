using System.Management.Automation;
using ImageTools.Publishing;

namespace ImageTools.Commands
{
    /// <summary>
    /// Lists the images an archive directory holds (one written by Publish-Image -ArchivePath): repository, tag,
    /// image id, the image's own creation time, size, when it was archived and its tar file. keepdocker's --list.
    /// </summary>
    /// <remarks>
    /// The listing is read from the archive's per-image records, the same ones index.json is written from; a tar whose
    /// write was interrupted has no record and is not listed. A missing or unreadable archive is an error naming the path.
    /// </remarks>
    /// <example>
    /// <code>Get-ImageArchive /mnt/transfer/images</code>
    /// <para>Lists every archived image with its tag, image id, creation time and size.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageArchive ./archive | Where-Object Repository -like 'php*' | ForEach-Object { docker load --input $_.File }</code>
    /// <para>Loads the archived php images into the local engine.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "ImageArchive")]
    [OutputType(typeof(ArchivedImage))]
    public sealed class GetImageArchiveCommand : ImageToolsCmdlet
    {
        /// <summary>The archive directory (what Publish-Image -ArchivePath was given).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "ArchivePath")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        protected override void ProcessRecord()
        {
            try
            {
                var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
                WriteVerbose($"Reading the archive {directory}");
                foreach (var image in ArchiveListing.Read(directory)) WriteObject(image);
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
        }
    }
}
