using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Json;
using ImageTools.Planning;
using Xunit;

namespace ImageTools.Tests.Planning
{
    /// <summary>Waves and legs for CI fan-out (New-ImageBuildPlan).</summary>
    public class BuildPlannerTests
    {
        private static ImageGraph Graph(TestTree tree) => ImageGraph.Build(TreeScanner.Scan(tree.Root));

        /// <summary>Every image of the graph, stale unless named in <paramref name="upToDate"/>.</summary>
        private static List<RebuildStatus> Statuses(ImageGraph graph, params string[] upToDate) =>
            graph.Nodes.Select(node =>
            {
                var status = new RebuildStatus(node, "sha256:inputs-" + node.Name);
                if (upToDate.Contains(node.Name)) status.PublishedDigest = "sha256:published-" + node.Name;
                else status.Add(RebuildReason.NotPublished, "not published");
                return status;
            }).ToList();

        private static string[][] Legs(BuildPlan plan, int wave) => plan.Waves[wave].Select(leg => leg.Images).ToArray();

        /// <summary>busybox → base → (a, b); a → a1; (a, b) → diamond; busybox → lone.</summary>
        private static TestTree Diamond() => new TestTree()
            .Image("base", "FROM busybox:1.36\n")
            .Image("a", "FROM base\n")
            .Image("b", "FROM base\n")
            .Image("a1", "FROM a\n")
            .Image("diamond", "FROM a\nCOPY --from=b /etc/passwd /b\n")
            .Image("lone", "FROM busybox:1.36\n");

        [Fact]
        public void A_wave_holds_the_images_whose_stale_parents_are_all_in_earlier_waves()
        {
            using var tree = Diamond();
            var plan = BuildPlanner.Plan(Statuses(Graph(tree)), maximumLegs: 8);

            Assert.Equal(3, plan.Waves.Count);
            Assert.Equal(new[] { "base", "lone" }, plan.Waves[0].SelectMany(leg => leg.Images).OrderBy(n => n));
            Assert.Equal(new[] { "a", "b" }, plan.Waves[1].SelectMany(leg => leg.Images).OrderBy(n => n));
            Assert.Equal(new[] { "a1", "diamond" }, plan.Waves[2].SelectMany(leg => leg.Images).OrderBy(n => n));
            Assert.All(plan.Legs, leg => Assert.Equal(leg.Wave, plan.Waves.ToList().FindIndex(wave => wave.Contains(leg))));
        }

        [Fact]
        public void Every_stale_image_is_in_exactly_one_leg_and_leg_ids_are_unique_and_stable()
        {
            using var tree = Diamond();
            var graph = Graph(tree);
            var statuses = Statuses(graph);
            var plan = BuildPlanner.Plan(statuses, maximumLegs: 1);
            var shuffled = BuildPlanner.Plan(Enumerable.Reverse(statuses).ToList(), maximumLegs: 1);

            var placed = plan.Legs.SelectMany(leg => leg.Images).ToList();
            Assert.Equal(graph.Nodes.Select(n => n.Name).OrderBy(n => n), placed.OrderBy(n => n));
            Assert.Equal(placed.Count, placed.Distinct().Count());
            Assert.Equal(plan.Legs.Count(), plan.Legs.Select(leg => leg.Id).Distinct().Count());
            Assert.Equal(new[] { "w0_l0", "w1_l0", "w2_l0" }, plan.Legs.Select(leg => leg.Id));
            Assert.Equal(plan.Legs.Select(leg => leg.ToString()), shuffled.Legs.Select(leg => leg.ToString()));
        }

        [Fact]
        public void Up_to_date_images_are_no_leg_but_recorded_with_their_published_digest()
        {
            using var tree = Diamond();
            var plan = BuildPlanner.Plan(Statuses(Graph(tree), "base", "lone", "b"), maximumLegs: 8);

            // a's only parent is up to date: a is wave 0 now, and its children follow in wave 1.
            Assert.Equal(new[] { new[] { "a" } }, Legs(plan, 0));
            Assert.Equal(new[] { "a1", "diamond" }, plan.Waves[1].SelectMany(leg => leg.Images).OrderBy(n => n));
            Assert.Equal(new[] { "b", "base", "lone" }, plan.UpToDate.Select(s => s.Name));
            Assert.Equal("sha256:published-base", plan.UpToDate.Single(s => s.Name == "base").PublishedDigest);
            Assert.Equal(3, plan.WaveSlots);
        }

        [Fact]
        public void A_wave_has_at_most_the_maximum_of_legs_balanced_by_cost()
        {
            using var tree = new TestTree();
            foreach (var name in new[] { "p", "q", "r", "s", "t" }) tree.Image(name, "FROM busybox:1.36\n");
            var plan = BuildPlanner.Plan(Statuses(Graph(tree)), maximumLegs: 2);

            Assert.Equal(2, plan.Waves[0].Count);
            Assert.Equal(new[] { 2.0, 3.0 }, plan.Waves[0].Select(leg => leg.EstimatedCost).OrderBy(c => c));
        }

        [Fact]
        public void Images_that_share_a_parent_stay_in_one_leg()
        {
            using var tree = new TestTree()
                .Image("p", "FROM busybox:1.36\n").Image("q", "FROM busybox:1.36\n")
                .Image("p1", "FROM p\n").Image("p2", "FROM p\n").Image("q1", "FROM q\n").Image("q2", "FROM q\n");
            var plan = BuildPlanner.Plan(Statuses(Graph(tree), "p", "q"), maximumLegs: 2);

            Assert.Equal(new[] { new[] { "p1", "p2" }, new[] { "q1", "q2" } }, Legs(plan, 0));
        }

        [Fact]
        public void A_chain_that_would_unbalance_the_wave_is_split()
        {
            using var tree = new TestTree().Image("p", "FROM busybox:1.36\n").Image("q", "FROM busybox:1.36\n").Image("q1", "FROM q\n");
            for (var i = 1; i <= 6; i++) tree.Image($"p{i}", "FROM p\n");
            var plan = BuildPlanner.Plan(Statuses(Graph(tree), "p", "q"), maximumLegs: 2);

            Assert.Equal(new[] { 3.0, 4.0 }, plan.Waves[0].Select(leg => leg.EstimatedCost).OrderBy(c => c));
            Assert.Equal(7, plan.Waves[0].Sum(leg => leg.ImageCount));
        }

        [Fact]
        public void Plan_json_is_versioned_and_lists_waves_legs_images_and_up_to_date_parents()
        {
            using var tree = Diamond();
            var plan = BuildPlanner.Plan(Statuses(Graph(tree), "base", "lone"), maximumLegs: 8);
            var folder = tree.PathOf("plan");

            var path = BuildPlanFile.Write(plan, folder, new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));
            var json = JsonValue.Parse(File.ReadAllText(path));

            Assert.Equal("imagetools-build-plan", json["format"]!.AsString);
            Assert.Equal(1, json["version"]!.AsInt64);
            Assert.Equal("2026-12-02T10:00:00Z", json["created"]!.AsString);
            var waves = json["waves"]!.Items;
            Assert.Equal(2, waves.Count);
            // a and b share base, but together they would make one agent do the wave's whole work.
            Assert.Equal(new[] { "w0_l0", "w0_l1" }, waves[0]["legs"]!.Items.Select(leg => leg["id"]!.AsString));
            var firstLeg = waves[0]["legs"]!.Items[0];
            Assert.Equal(new[] { "a" }, firstLeg["images"]!.Items.Select(i => i["name"]!.AsString));
            Assert.Equal("sha256:inputs-a", firstLeg["images"]!.Items[0]["inputsDigest"]!.AsString);
            Assert.Equal(new[] { "base" }, firstLeg["images"]!.Items[0]["dependencies"]!.Items.Select(d => d.AsString));
            Assert.Equal("sha256:published-base", json["upToDate"]!.Items.Single(i => i["name"]!.AsString == "base")["digest"]!.AsString);
            Assert.Equal(new[] { path }, Directory.GetFiles(folder));
        }

        [Fact]
        public void Wave_matrices_for_Azure_and_GitHub_and_an_empty_wave()
        {
            using var tree = Diamond();
            var plan = BuildPlanner.Plan(Statuses(Graph(tree), "base", "lone", "a", "b", "a1"), maximumLegs: 8);

            Assert.Equal(3, plan.WaveSlots);
            Assert.Equal("{\"w0_l0\":{\"leg\":\"w0_l0\"}}", BuildPlanFile.AzureMatrix(BuildPlanFile.LegsOf(plan, 0)));
            Assert.Equal("{\"include\":[{\"leg\":\"w0_l0\"}]}", BuildPlanFile.GitHubMatrix(BuildPlanFile.LegsOf(plan, 0)));
            Assert.Equal("{}", BuildPlanFile.AzureMatrix(BuildPlanFile.LegsOf(plan, 2)));
            Assert.Equal("{\"include\":[]}", BuildPlanFile.GitHubMatrix(BuildPlanFile.LegsOf(plan, 2)));
        }


        [Fact]
        public void Legs_are_balanced_by_recorded_build_durations_and_images_without_one_weigh_the_median()
        {
            using var tree = new TestTree();
            foreach (var name in new[] { "p", "q", "r", "s", "t" }) tree.Image(name, "FROM busybox:1.36\n");
            var statuses = Statuses(Graph(tree));
            statuses.Single(s => s.Name == "p").LastBuildDuration = TimeSpan.FromSeconds(300);
            statuses.Single(s => s.Name == "q").LastBuildDuration = TimeSpan.FromSeconds(20);
            statuses.Single(s => s.Name == "r").LastBuildDuration = TimeSpan.FromSeconds(40);

            var plan = BuildPlanner.Plan(statuses, maximumLegs: 2);

            // p alone outweighs the rest: q 20 + r 40 + s and t at the median, 40 each.
            Assert.Equal(new[] { new[] { "p" }, new[] { "q", "r", "s", "t" } }, Legs(plan, 0));
            Assert.Equal(new[] { 300.0, 140.0 }, plan.Waves[0].Select(leg => leg.EstimatedCost));
        }

        [Theory]
        [InlineData("2026-12-02T10:00:00.000Z", "2026-12-02T10:01:30.5Z", 90.5)]
        [InlineData("2026-12-02T10:00:00.000Z", "2026-12-02T09:00:00Z", null)]
        [InlineData(null, "2026-12-02T10:01:30Z", null)]
        [InlineData("2026-12-02T10:00:00.000Z", null, null)]
        [InlineData("yesterday", "2026-12-02T10:01:30Z", null)]
        public void A_build_duration_is_the_configs_created_less_the_build_started_label(string? started, string? created, double? seconds)
        {
            var labels = new Dictionary<string, string>();
            if (started != null) labels[ImageTools.Provenance.ImageLabels.BuildStarted] = started;

            Assert.Equal(seconds, PublishedImage.DurationOf(labels, created)?.TotalSeconds);
        }
    }
}
