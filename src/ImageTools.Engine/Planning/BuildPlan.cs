using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageTools.Planning
{
    /// <summary>One leg of a build plan: images one CI agent builds in one wave. What New-ImageBuildPlan emits.</summary>
    public sealed class BuildPlanLeg
    {
        internal BuildPlanLeg(int wave, string id, IReadOnlyList<RebuildStatus> images, Func<RebuildStatus, double> costOf)
        {
            Wave = wave;
            Id = id;
            Statuses = images;
            Images = images.Select(status => status.Name).ToArray();
            References = images.Select(status => status.Reference).ToArray();
            EstimatedCost = images.Sum(costOf);
        }

        /// <summary>0 for images with no stale parent; else one more than the latest wave of a stale parent.</summary>
        public int Wave { get; }
        /// <summary>Unique in the plan and stable for the same statuses: <c>w{wave}_l{index}</c> (letters, digits and underscores: a valid job name in Azure Pipelines and GitHub Actions).</summary>
        public string Id { get; }
        /// <summary>The image names, in build order.</summary>
        public string[] Images { get; }
        public string[] References { get; }
        public int ImageCount => Images.Length;
        /// <summary>The sum of the images' estimated costs: seconds of their last recorded builds, else one each (see docs/ci.md).</summary>
        public double EstimatedCost { get; }
        internal IReadOnlyList<RebuildStatus> Statuses { get; }

        public override string ToString() => $"{Id}: {string.Join(", ", Images)}";
    }

    /// <summary>The stale images of one run split into waves (by stale depth) and legs (balanced, chains together).</summary>
    internal sealed class BuildPlan
    {
        internal BuildPlan(IReadOnlyList<IReadOnlyList<BuildPlanLeg>> waves, int waveSlots, IReadOnlyList<RebuildStatus> upToDate)
        {
            Waves = waves;
            WaveSlots = waveSlots;
            UpToDate = upToDate;
        }

        /// <summary>Wave k's legs; a wave may be empty only past the last stale image (see <see cref="WaveSlots"/>).</summary>
        public IReadOnlyList<IReadOnlyList<BuildPlanLeg>> Waves { get; }
        /// <summary>How many waves a pipeline for this tree must provide for: the tree's depth. Waves past <see cref="Waves"/> are empty.</summary>
        public int WaveSlots { get; }
        public IEnumerable<BuildPlanLeg> Legs => Waves.SelectMany(wave => wave);
        /// <summary>Statuses that need no rebuild: their published digests are what legs pull their parents by.</summary>
        public IReadOnlyList<RebuildStatus> UpToDate { get; }
    }

    /// <summary>Splits the stale images into waves and legs for CI fan-out (New-ImageBuildPlan).</summary>
    internal static class BuildPlanner
    {
        /// <summary>A wave's chains may make one leg this much heavier than an even share before they are split.</summary>
        private const double ChainSlack = 1.25;

        /// <summary>
        /// What an image weighs: its last recorded build duration in seconds; an image without one weighs
        /// the median of those that have one, and when none has, every image weighs 1.
        /// </summary>
        internal static Func<RebuildStatus, double> Costs(IReadOnlyCollection<RebuildStatus> stale)
        {
            var known = stale.Where(s => s.LastBuildDuration.HasValue).Select(s => Math.Max(1.0, s.LastBuildDuration!.Value.TotalSeconds)).OrderBy(c => c).ToList();
            var fallback = known.Count == 0 ? 1.0 : known[known.Count / 2];
            return status => status.LastBuildDuration.HasValue ? Math.Max(1.0, status.LastBuildDuration.Value.TotalSeconds) : fallback;
        }

        public static BuildPlan Plan(IEnumerable<RebuildStatus> statuses, int maximumLegs)
        {
            if (maximumLegs < 1) throw new ArgumentOutOfRangeException(nameof(maximumLegs), "A plan needs at least one leg per wave.");
            var all = statuses.GroupBy(status => status.Name, StringComparer.Ordinal).Select(group => group.Last()).ToList();
            var stale = all.Where(status => status.NeedsRebuild).ToDictionary(status => status.Name, StringComparer.Ordinal);
            var upToDate = all.Where(status => !status.NeedsRebuild).OrderBy(status => status.Name, StringComparer.Ordinal).ToList();

            var waveOf = new Dictionary<string, int>(StringComparer.Ordinal);
            int WaveOf(RebuildStatus status)
            {
                if (waveOf.TryGetValue(status.Name, out var known)) return known;
                // Edges of the tree have no cycles (the graph refuses them), so this recursion ends.
                var wave = status.Node.Dependencies.Where(stale.ContainsKey).Select(parent => WaveOf(stale[parent]) + 1).DefaultIfEmpty(0).Max();
                waveOf[status.Name] = wave;
                return wave;
            }

            var costOf = Costs(stale.Values);
            var waves = stale.Values
                .GroupBy(WaveOf)
                .OrderBy(group => group.Key)
                .Select(group => (IReadOnlyList<BuildPlanLeg>)SplitWave(group.Key, group.ToList(), maximumLegs, costOf))
                .ToList();
            // The tree's depth, from each graph the statuses come from once (not once per status).
            var depth = all.Select(status => status.Node.Graph).Distinct()
                .SelectMany(graph => graph.Nodes).Select(node => node.Level).DefaultIfEmpty(-1).Max() + 1;
            return new BuildPlan(waves, Math.Max(depth, waves.Count), upToDate);
        }

        // Images of one wave never depend on each other. Those that share a parent form a chain: kept in
        // one leg, that parent is pulled on one agent instead of several. Chains go to the lightest leg,
        // heaviest first (LPT); a chain heavier than an even share (with slack) is split image by image.
        private static List<BuildPlanLeg> SplitWave(int wave, List<RebuildStatus> images, int maximumLegs, Func<RebuildStatus, double> costOf)
        {
            images.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var legCount = Math.Min(maximumLegs, images.Count);
            var share = images.Sum(costOf) / legCount * ChainSlack;

            var units = new List<List<RebuildStatus>>();
            foreach (var chain in Chains(images))
            {
                if (chain.Sum(costOf) <= share) units.Add(chain);
                else units.AddRange(chain.Select(image => new List<RebuildStatus> { image }));
            }

            var legs = Enumerable.Range(0, legCount).Select(_ => new List<RebuildStatus>()).ToList();
            var loads = new double[legCount];
            foreach (var unit in units.OrderByDescending(unit => unit.Sum(costOf)).ThenBy(unit => unit[0].Name, StringComparer.Ordinal))
            {
                var lightest = Enumerable.Range(0, legCount).OrderBy(index => loads[index]).ThenBy(index => index).First();
                legs[lightest].AddRange(unit);
                loads[lightest] += unit.Sum(costOf);
            }
            return legs.Where(leg => leg.Count > 0)
                .Select(leg => leg.OrderBy(image => image.Name, StringComparer.Ordinal).ToList())
                .OrderBy(leg => leg[0].Name, StringComparer.Ordinal)
                .Select((leg, index) => new BuildPlanLeg(wave, $"w{wave}_l{index}", leg, costOf))
                .ToList();
        }

        /// <summary>Groups of images linked by a shared parent (union-find over parent names).</summary>
        private static IEnumerable<List<RebuildStatus>> Chains(List<RebuildStatus> images)
        {
            var root = new Dictionary<string, string>(StringComparer.Ordinal);
            string Find(string key)
            {
                if (!root.TryGetValue(key, out var parent)) { root[key] = key; return key; }
                if (parent == key) return key;
                var top = Find(parent);
                root[key] = top;
                return top;
            }
            void Union(string a, string b) { var ra = Find(a); var rb = Find(b); if (ra != rb) root[rb] = ra; }

            foreach (var image in images)
            {
                Find("image:" + image.Name);
                foreach (var parent in image.Node.Dependencies) Union("image:" + image.Name, "parent:" + parent);
            }
            return images.GroupBy(image => Find("image:" + image.Name)).Select(group => group.ToList());
        }
    }
}
