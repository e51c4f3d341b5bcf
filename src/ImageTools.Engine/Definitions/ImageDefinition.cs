using System.Collections.Generic;
using ImageTools.Formats.Changelogs;
using ImageTools.Formats.Dockerfiles;
using ImageTools.References;

namespace ImageTools.Definitions
{
    /// <summary>Where an image's name came from, in order of precedence.</summary>
    internal enum NameSource { ImageList, ImageYaml, Changelog, Directory }

    /// <summary>Where an image's version came from, in order of precedence.</summary>
    internal enum VersionSource { ImageList, Changelog, ImageYaml, None }

    /// <summary>An edge someone wrote down: a control Depends, or an image.yaml depends entry.</summary>
    internal sealed class DeclaredDependency
    {
        public DeclaredDependency(string name, string filePath, int line)
        {
            Name = name;
            FilePath = filePath;
            Line = line;
        }

        public string Name { get; }
        public string FilePath { get; }
        public int Line { get; }
    }

    /// <summary>Everything the tree says about one image, read and validated; no graph knowledge.</summary>
    internal sealed class ImageDefinition
    {
        internal ImageDefinition(string name, NameSource nameSource, string? version, VersionSource versionSource, string directory)
        {
            Name = name;
            NameSource = nameSource;
            Version = version;
            VersionSource = versionSource;
            Directory = directory;
        }

        public string Name { get; }
        public NameSource NameSource { get; }
        public string? Version { get; }
        public VersionSource VersionSource { get; }
        /// <summary>Full path of the image directory.</summary>
        public string Directory { get; }
        /// <summary>The Dockerfile or Dockerfile.template that defines the image.</summary>
        public string DockerfilePath { get; internal set; } = "";
        public bool IsTemplate { get; internal set; }
        /// <summary>The build context directory: in the image's tree, or a git context's checkout (<see cref="GitContext"/>).</summary>
        public string ContextPath { get; internal set; } = "";
        /// <summary>The git repository and commit the context comes from (image.yaml <c>context: https://…/repo.git#ref:dir</c>); null for a local context.</summary>
        public GitContext? GitContext { get; internal set; }
        /// <summary>The Dockerfile as it will be built (templates rendered).</summary>
        public string DockerfileText { get; internal set; } = "";
        public DockerfileInfo Dockerfile { get; internal set; } = null!;
        /// <summary>
        /// The external and sibling images a build of this image reads, given its target: every stage up
        /// to the target (the classic builder builds them all) and every stage the target needs (BuildKit).
        /// </summary>
        public IReadOnlyList<ImageUse> ImageUses { get; internal set; } = new ImageUse[0];
        /// <summary>The image the built stage (the target, else the last) ultimately builds on; null for scratch.</summary>
        public ImageUse? FinalBase { get; internal set; }
        public ImageSpec? Spec { get; internal set; }
        public DebianChangelog? Changelog { get; internal set; }
        public string? ChangelogPath { get; internal set; }
        public string? ControlPath { get; internal set; }
        /// <summary><c>test.sh</c> in the image directory, when there is one.</summary>
        public string? TestScriptPath { get; internal set; }
        /// <summary><c>test.ps1</c> in the image directory, when there is one (run by the PowerShell that runs the module).</summary>
        public string? TestPowerShellScriptPath { get; internal set; }
        public IReadOnlyList<string> ExtraTags { get; internal set; } = new string[0];
        /// <summary>Config build args overlaid with the image's own.</summary>
        public IReadOnlyDictionary<string, string> BuildArgs { get; internal set; } = new Dictionary<string, string>();
        public string? Target { get; internal set; }
        public IReadOnlyList<string> Platforms { get; internal set; } = new string[0];
        /// <summary>The platform the image is built for: image.yaml's, else null for the engine's own.</summary>
        public ImagePlatform? Platform => Platforms.Count == 0 ? null : ImagePlatform.TryParse(Platforms[0]);
        public IReadOnlyDictionary<string, string> Labels { get; internal set; } = new Dictionary<string, string>();
        public string? VerifyCommand { get; internal set; }
        public IReadOnlyList<string>? VerifyArgs { get; internal set; }
        public IReadOnlyList<DeclaredDependency> DeclaredDependencies { get; internal set; } = new DeclaredDependency[0];

        /// <summary>The tag a build of this image gets: its version, or <c>latest</c> when it has none.</summary>
        public string Tag => Version ?? "latest";

        public override string ToString() => Version == null ? Name : $"{Name}:{Version}";
    }
}
