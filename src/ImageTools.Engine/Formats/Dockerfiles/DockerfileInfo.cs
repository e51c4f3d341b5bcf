using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ImageTools.Formats.Dockerfiles
{
    /// <summary>One FROM and what follows it.</summary>
    internal sealed class DockerfileStage
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
        /// <summary>The name after AS, as written (stage names compare case-insensitively).</summary>
        public string? Alias { get; }
        /// <summary>What FROM names after ARG expansion: an image, an earlier stage, or <c>scratch</c>.</summary>
        public string BaseText { get; }
        /// <summary>
        /// The <c>--platform</c> value after expansion. BuildKit's automatic platform ARGs
        /// (<c>$BUILDPLATFORM</c>, <c>$TARGETARCH</c>, ...) stay as written unless a build arg sets them:
        /// their value is only known when the build runs.
        /// </summary>
        public string? Platform { get; }
        public int Line { get; }
        /// <summary>The earlier stage this one builds on, when FROM names a stage instead of an image.</summary>
        public int? BaseStageIndex { get; }

        /// <summary>Stages this one reads: its base stage, COPY --from and RUN --mount from= stages.</summary>
        internal List<int> StageDependencies { get; } = new List<int>();

        public override string ToString() => $"stage {Index}{(Alias != null ? " " + Alias : "")} FROM {BaseText} (line {Line})";
    }

    /// <summary>An external image the build reads: a FROM base, a COPY --from source or a RUN --mount source.</summary>
    internal sealed class ImageUse
    {
        public const string From = "FROM";
        public const string CopyFrom = "COPY --from";
        public const string RunMount = "RUN --mount";

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
        /// <summary><see cref="From"/>, <see cref="CopyFrom"/> or <see cref="RunMount"/>.</summary>
        public string Instruction { get; }
        public int StageIndex { get; }

        public override string ToString() => $"{Instruction} {Reference} (line {Line})";
    }

    /// <summary>What the graph needs to know about a Dockerfile.</summary>
    internal sealed class DockerfileInfo
    {
        internal DockerfileInfo(IReadOnlyList<DockerfileStage> stages, IReadOnlyList<ImageUse> imageUses, IReadOnlyDictionary<string, string?> globalArgs)
        {
            Stages = stages;
            ImageUses = imageUses;
            GlobalArgs = globalArgs;
        }

        public IReadOnlyList<DockerfileStage> Stages { get; }
        /// <summary>
        /// Every external image any stage uses, in file order. The classic builder builds every stage;
        /// BuildKit only those the target needs: see <see cref="ImageUsesFor"/>.
        /// </summary>
        public IReadOnlyList<ImageUse> ImageUses { get; }
        /// <summary>ARGs declared before the first FROM, with their expanded defaults (null when none).</summary>
        public IReadOnlyDictionary<string, string?> GlobalArgs { get; }
        /// <summary>The last stage: what <c>docker build</c> produces without <c>--target</c>.</summary>
        public DockerfileStage FinalStage => Stages[Stages.Count - 1];

        /// <summary>The external image the final stage ultimately builds on; null when it starts from scratch.</summary>
        public ImageUse? FinalBase => BaseImageOf(FinalStage);

        /// <summary>A stage by its AS name (case-insensitive, the last one wins as in BuildKit) or by its index.</summary>
        public DockerfileStage? FindStage(string nameOrIndex)
        {
            if (int.TryParse(nameOrIndex, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                return index < Stages.Count ? Stages[index] : null;
            return Stages.LastOrDefault(s => s.Alias != null && s.Alias.Equals(nameOrIndex, StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>The external image a stage ultimately builds on (stage aliases followed back); null for scratch.</summary>
        public ImageUse? BaseImageOf(DockerfileStage stage)
        {
            while (stage.BaseStageIndex is int earlier) stage = Stages[earlier];
            return ImageUses.FirstOrDefault(u => u.StageIndex == stage.Index && u.Instruction == ImageUse.From);
        }

        /// <summary>
        /// The external images a build of <paramref name="target"/> (a stage name or index; null for the
        /// final stage) needs: those of the target and of every stage it reads, as BuildKit builds them.
        /// </summary>
        public IReadOnlyList<ImageUse> ImageUsesFor(string? target)
        {
            var stage = target == null ? FinalStage : FindStage(target)
                ?? throw new ImageToolsException("DockerfileUnknownTarget", FaultKind.InvalidArgument,
                    $"The target stage '{target}' is not in this Dockerfile. Known stages: " +
                    $"{string.Join(", ", Stages.Select(s => s.Alias ?? s.Index.ToString(CultureInfo.InvariantCulture)))}.");
            var needed = new HashSet<int>();
            var pending = new Stack<int>();
            pending.Push(stage.Index);
            while (pending.Count > 0)
            {
                var index = pending.Pop();
                if (!needed.Add(index)) continue;
                foreach (var dependency in Stages[index].StageDependencies) pending.Push(dependency);
            }
            return ImageUses.Where(u => needed.Contains(u.StageIndex)).ToList();
        }
    }
}
