using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ImageTools.Json;

namespace ImageTools.Planning
{
    /// <summary>
    /// The plan folder's <c>plan.json</c> (format documented in docs/ci.md) and the per-wave matrices a
    /// pipeline fans out by. Version 1; a reader refuses versions it does not know.
    /// </summary>
    internal static class BuildPlanFile
    {
        public const string FileName = "plan.json";
        public const int FormatVersion = 1;

        /// <summary>Writes <c>plan.json</c> under <paramref name="directory"/> atomically (a reader never sees half a plan).</summary>
        public static string Write(BuildPlan plan, string directory, DateTimeOffset created, string? id = null)
        {
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, FileName);
            AtomicFile.WriteAllText(path, ToJson(plan, created, id ?? Guid.NewGuid().ToString("N")).ToJson() + "\n");
            return path;
        }

        internal const string Format = "imagetools-build-plan";

        internal static JsonValue ToJson(BuildPlan plan, DateTimeOffset created, string id) => JsonValue.Object(
            ("format", JsonValue.String(Format)),
            ("version", JsonValue.Number(FormatVersion)),
            ("id", JsonValue.String(id)),
            ("created", JsonValue.String(created.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))),
            ("waveSlots", JsonValue.Number(plan.WaveSlots)),
            ("waves", JsonValue.Array(plan.Waves.Select((legs, wave) => JsonValue.Object(
                ("wave", JsonValue.Number(wave)),
                ("legs", JsonValue.Array(legs.Select(leg => JsonValue.Object(
                    ("id", JsonValue.String(leg.Id)),
                    ("estimatedCost", JsonValue.Number((long)Math.Ceiling(leg.EstimatedCost))),
                    ("images", JsonValue.Array(leg.Statuses.Select(ImageJson))))))))))),
            ("upToDate", JsonValue.Array(plan.UpToDate.Select(status => JsonValue.Object(
                ("name", JsonValue.String(status.Name)),
                ("reference", JsonValue.String(status.Reference)),
                ("digest", status.PublishedDigest == null ? JsonValue.Null : JsonValue.String(status.PublishedDigest)),
                ("inputsDigest", JsonValue.String(status.InputsDigest)))))));

        private static JsonValue ImageJson(RebuildStatus status) => JsonValue.Object(
            ("name", JsonValue.String(status.Name)),
            ("reference", JsonValue.String(status.Reference)),
            ("inputsDigest", JsonValue.String(status.InputsDigest)),
            ("reasons", JsonValue.Array(status.Reasons.Select(reason => JsonValue.String(reason.ToString())))),
            ("dependencies", JsonValue.Array(status.Node.Dependencies.Select(JsonValue.String))),
            ("parents", JsonValue.Array(status.Parents.Select(parent => JsonValue.Object(
                ("name", JsonValue.String(parent.Name)),
                ("reference", JsonValue.String(parent.Reference)),
                ("digest", JsonValue.String(parent.Digest)),
                ("manifestDigest", parent.ManifestDigest == null ? JsonValue.Null : JsonValue.String(parent.ManifestDigest)))))));

        /// <summary>
        /// Wave k's matrix for Azure Pipelines: an object of jobs, each with its <c>leg</c> variable. An
        /// empty wave is <c>{}</c> (and its leg count 0, which the pipeline's condition checks).
        /// </summary>
        public static string AzureMatrix(IReadOnlyList<BuildPlanLeg> legs) =>
            JsonValue.Object(legs.Select(leg => new KeyValuePair<string, JsonValue>(leg.Id, JsonValue.Object(("leg", JsonValue.String(leg.Id)))))).ToJson();

        /// <summary>Wave k's matrix for GitHub Actions: <c>{"include":[{"leg":…}]}</c>.</summary>
        public static string GitHubMatrix(IReadOnlyList<BuildPlanLeg> legs) =>
            JsonValue.Object(("include", JsonValue.Array(legs.Select(leg => JsonValue.Object(("leg", JsonValue.String(leg.Id))))))).ToJson();

        /// <summary>The legs of wave <paramref name="wave"/>; none past the last stale wave.</summary>
        public static IReadOnlyList<BuildPlanLeg> LegsOf(BuildPlan plan, int wave) =>
            wave < plan.Waves.Count ? plan.Waves[wave] : Array.Empty<BuildPlanLeg>();
    }
}
