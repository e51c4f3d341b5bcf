using System.Collections.Generic;

namespace ImageTools.Definitions.Dockerfiles
{
    /// <summary>One FROM and what follows it.</summary>
    public sealed class DockerfileStage
    {
        internal DockerfileStage(int index, string? alias, string baseText, string? platform, int line, int? baseStageIndex)
        {
            Index = index;
            Alias = alias;
            BaseText = baseText;
            Platform = platform;
            Line = line;
            BaseStageIndex = baseStageIndex;
        }

        public int Index { get; }
        /// <summary>The name after AS, when there is one.</summary>
        public string? Alias { get; }
        /// <summary>What FROM names after ARG expansion: an image, an earlier stage, or <c>scratch</c>.</summary>
        public string BaseText { get; }
        public string? Platform { get; }
        public int Line { get; }
        /// <summary>The earlier stage this one builds on, when FROM names a stage instead of an image.</summary>
        public int? BaseStageIndex { get; }
    }

    /// <summary>An external image the build reads: a FROM base, a COPY --from source or a RUN --mount source.</summary>
    public sealed class ImageUse
    {
        internal ImageUse(string reference, int line, string instruction, int stageIndex)
        {
            Reference = reference;
            Line = line;
            Instruction = instruction;
            StageIndex = stageIndex;
        }

        /// <summary>The reference after ARG expansion, as written (e.g. <c>busybox:1.36</c>).</summary>
        public string Reference { get; }
        public int Line { get; }
        /// <summary><c>FROM</c>, <c>COPY --from</c> or <c>RUN --mount</c>.</summary>
        public string Instruction { get; }
        public int StageIndex { get; }

        public override string ToString() => $"{Instruction} {Reference} (line {Line})";
    }

    /// <summary>What the graph needs to know about a Dockerfile.</summary>
    public sealed class DockerfileInfo
    {
        internal DockerfileInfo(IReadOnlyList<DockerfileStage> stages, IReadOnlyList<ImageUse> imageUses, IReadOnlyDictionary<string, string?> globalArgs)
        {
            Stages = stages;
            ImageUses = imageUses;
            GlobalArgs = globalArgs;
        }

        public IReadOnlyList<DockerfileStage> Stages { get; }
        /// <summary>Every external image the build uses, in file order.</summary>
        public IReadOnlyList<ImageUse> ImageUses { get; }
        /// <summary>ARGs declared before the first FROM, with their defaults (null when none).</summary>
        public IReadOnlyDictionary<string, string?> GlobalArgs { get; }
        public DockerfileStage FinalStage => Stages[Stages.Count - 1];

        /// <summary>The external image the final stage ultimately builds on; null when it starts from scratch.</summary>
        public ImageUse? FinalBase
        {
            get
            {
                var stage = FinalStage;
                while (stage.BaseStageIndex is int earlier) stage = Stages[earlier];
                foreach (var use in ImageUses)
                    if (use.StageIndex == stage.Index && use.Instruction == "FROM") return use;
                return null;
            }
        }
    }
}
