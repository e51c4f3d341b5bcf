using System.Linq;
using ImageTools.Definitions;
using ImageTools.References;

namespace ImageTools.Graph
{
    /// <summary>How an edge was declared.</summary>
    internal enum DependencyKind { From, CopyFrom, RunMount, Control, ImageYaml }

    /// <summary>One edge: <see cref="Dependent"/> needs <see cref="Dependency"/> built first.</summary>
    internal sealed class DependencyEdge
    {
        internal DependencyEdge(string dependent, string dependency, DependencyKind kind, string filePath, int line, string? reference)
        {
            Dependent = dependent;
            Dependency = dependency;
            Kind = kind;
            FilePath = filePath;
            Line = line;
            Reference = reference;
        }

        public string Dependent { get; }
        public string Dependency { get; }
        public DependencyKind Kind { get; }
        public string FilePath { get; }
        public int Line { get; }
        /// <summary>The reference text as written in the Dockerfile, for FROM/COPY/RUN edges.</summary>
        public string? Reference { get; }

        public override string ToString() => $"{Dependent} → {Dependency} ({Kind} at {FilePath}:{Line})";
    }

    /// <summary>
    /// One image of the tree as the graph sees it: what Get-ImageGraph emits and the later cmdlets
    /// take from the pipeline. Property names are stable; they are the columns people filter on.
    /// </summary>
    public sealed class ImageNode
    {
        internal ImageNode(ImageDefinition definition, ImageReference reference)
        {
            Definition = definition;
            ImageReference = reference;
            Reference = reference.ToString();
        }

        public string Name => Definition.Name;
        /// <summary>The version from the changelog or image.yaml; null when the image has none.</summary>
        public string? Version => Definition.Version;
        /// <summary>The tag a build gets: the version, or <c>latest</c>.</summary>
        public string Tag => Definition.Tag;
        /// <summary>Full reference: [registry/][namespace/]name:tag, as text (users filter and export it).</summary>
        public string Reference { get; }
        /// <summary>The same reference as the value the engine carries.</summary>
        internal ImageReference ImageReference { get; }

        /// <summary>The reference with another tag (a nightly build's <c>1.0-20261122</c>).</summary>
        internal ImageReference ReferenceWithTag(string tag) => ImageReference.WithTag(tag);
        public string Directory => Definition.Directory;
        public string Dockerfile => Definition.DockerfilePath;
        /// <summary>The build context: a directory, or a git context's URL as written without credentials (<c>https://host/repo.git#main:dir</c>).</summary>
        public string Context => Definition.GitContext?.Url.Display ?? Definition.ContextPath;
        /// <summary>The commit a git context's ref named when the tree was read (what is built and digested); null for a directory.</summary>
        public string? ContextCommit => Definition.GitContext?.Commit;
        /// <summary>Build level: 0 for images with no parent in the tree, else one more than the deepest parent.</summary>
        public int Level { get; internal set; }
        /// <summary>Images of the tree this one needs built first (direct).</summary>
        public string[] Dependencies { get; internal set; } = new string[0];
        /// <summary>Images of the tree that need this one (direct).</summary>
        public string[] Dependents { get; internal set; } = new string[0];
        /// <summary>External images the build uses (FROM, COPY --from, RUN --mount), as written after ARG expansion.</summary>
        public string[] BaseImages { get; private set; } = new string[0];
        /// <summary>The same external images, parsed once when the graph was built.</summary>
        internal ImageReference[] BaseReferences
        {
            get => _baseReferences;
            set
            {
                _baseReferences = value;
                BaseImages = value.Select(b => b.ToString()).ToArray();
            }
        }
        private ImageReference[] _baseReferences = new ImageReference[0];
        /// <summary>The final stage's base: a tree image name or an external reference; null for scratch.</summary>
        public string? FinalBase { get; internal set; }
        internal ImageDefinition Definition { get; }
        /// <summary>The graph this node belongs to, so downstream cmdlets can walk it.</summary>
        internal ImageGraph Graph { get; set; } = null!;

        public override string ToString() => Reference;
    }
}
