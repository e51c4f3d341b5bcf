namespace ImageTools.Registry
{
    /// <summary>The manifest and config media types registries speak (OCI image spec and Docker's v2 schema 2).</summary>
    internal static class MediaTypes
    {
        public const string OciIndex = "application/vnd.oci.image.index.v1+json";
        public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
        public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
        public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
        public const string DockerManifestSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
        public const string DockerManifestSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
        public const string OciConfig = "application/vnd.oci.image.config.v1+json";
        public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
        public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
        public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
        public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
        public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

        /// <summary>
        /// Every manifest kind we read, in one Accept header: a registry that is not told a type may
        /// convert the manifest (changing its digest) or answer with schema 1.
        /// </summary>
        public static readonly string[] ManifestAccept = { OciIndex, OciManifest, DockerManifestList, DockerManifest };

        public static bool IsIndex(string mediaType) => mediaType == OciIndex || mediaType == DockerManifestList;

        public static bool IsImageManifest(string mediaType) => mediaType == OciManifest || mediaType == DockerManifest;
    }
}
