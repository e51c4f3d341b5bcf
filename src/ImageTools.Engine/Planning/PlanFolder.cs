using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ImageTools.Json;

namespace ImageTools.Planning
{
    /// <summary>A stale image as the plan recorded it: its leg, the inputs the check saw, and the parents it saw published.</summary>
    internal sealed class PlannedImage
    {
        public PlannedImage(string name, string reference, string inputsDigest, string leg, int wave, IReadOnlyList<string> dependencies,
            IReadOnlyList<ParentImage> parents)
        {
            Name = name;
            Reference = reference;
            InputsDigest = inputsDigest;
            Leg = leg;
            Wave = wave;
            Dependencies = dependencies;
            Parents = parents;
        }

        public string Name { get; }
        public string Reference { get; }
        public string InputsDigest { get; }
        public string Leg { get; }
        public int Wave { get; }
        public IReadOnlyList<string> Dependencies { get; }
        /// <summary>The parents the rebuild check saw published (those it rebuilds are superseded by their leg's record).</summary>
        public IReadOnlyList<ParentImage> Parents { get; }
    }

    /// <summary>What one leg left for later stages: each image's outcome and, when staged, the digests it was uploaded under.</summary>
    internal sealed class LegRecordImage
    {
        public LegRecordImage(string name, string reference, string status, string? digest, string? manifestDigest, string? platform,
            string? inputsDigest, string? error)
        {
            Name = name;
            Reference = reference;
            Status = status;
            Digest = digest;
            ManifestDigest = manifestDigest;
            Platform = platform;
            InputsDigest = inputsDigest;
            Error = error;
        }

        public const string Staged = "Staged";

        public string Name { get; }
        /// <summary>The version tag's reference the image is promoted to.</summary>
        public string Reference { get; }
        /// <summary><see cref="Staged"/> when uploaded by digest; otherwise the build or upload outcome (Failed, Skipped…).</summary>
        public string Status { get; }
        /// <summary>The image id (config digest).</summary>
        public string? Digest { get; }
        /// <summary>The manifest digest in the registry: what children pull and what the promote tags.</summary>
        public string? ManifestDigest { get; }
        public string? Platform { get; }
        public string? InputsDigest { get; }
        public string? Error { get; }
        public bool Succeeded => Status == Staged && ManifestDigest != null && Digest != null;
    }

    /// <summary>One leg's record, <c>leg-{id}.json</c>, written by <c>Publish-Image -Plan -Stage</c>.</summary>
    internal sealed class LegRecord
    {
        public const string Format = "imagetools-leg-record";
        public const int FormatVersion = 1;

        public LegRecord(string planId, string leg, IReadOnlyList<LegRecordImage> images)
        {
            PlanId = planId;
            Leg = leg;
            Images = images;
        }

        public string PlanId { get; }
        public string Leg { get; }
        public IReadOnlyList<LegRecordImage> Images { get; }

        public static string FileNameOf(string leg) => "leg-" + leg + ".json";

        public JsonValue ToJson() => JsonValue.Object(
            ("format", JsonValue.String(Format)),
            ("version", JsonValue.Number(FormatVersion)),
            ("plan", JsonValue.String(PlanId)),
            ("leg", JsonValue.String(Leg)),
            ("images", JsonValue.Array(Images.Select(image => JsonValue.Object(
                ("name", JsonValue.String(image.Name)),
                ("reference", JsonValue.String(image.Reference)),
                ("status", JsonValue.String(image.Status)),
                ("digest", Nullable(image.Digest)),
                ("manifestDigest", Nullable(image.ManifestDigest)),
                ("platform", Nullable(image.Platform)),
                ("inputsDigest", Nullable(image.InputsDigest)),
                ("error", Nullable(image.Error)))))));

        internal static LegRecord FromJson(JsonValue json, string path)
        {
            if (json["format"]?.AsString != Format || json["version"]?.AsInt64 != FormatVersion)
                throw PlanFolder.Invalid(path, $"it is not a leg record of format version {FormatVersion}");
            var images = (json["images"]?.Items ?? Array.Empty<JsonValue>()).Select(image => new LegRecordImage(
                PlanFolder.Required(image, "name", path), PlanFolder.Required(image, "reference", path), PlanFolder.Required(image, "status", path),
                image["digest"]?.AsString, image["manifestDigest"]?.AsString, image["platform"]?.AsString, image["inputsDigest"]?.AsString,
                image["error"]?.AsString)).ToList();
            return new LegRecord(PlanFolder.Required(json, "plan", path), PlanFolder.Required(json, "leg", path), images);
        }

        private static JsonValue Nullable(string? value) => value == null ? JsonValue.Null : JsonValue.String(value);
    }

    /// <summary>
    /// A plan folder as later stages see it: <c>plan.json</c> and the leg records found anywhere under
    /// the folder (pipelines download each leg's artifact into a folder of its own). Records of another
    /// plan are ignored: a folder reused across runs cannot hand a stale digest to a child.
    /// </summary>
    internal sealed class PlanFolder
    {
        private readonly Dictionary<string, PlannedImage> _images;
        private readonly Dictionary<string, IReadOnlyList<PlannedImage>> _legs;

        private PlanFolder(string directory, string id, Dictionary<string, IReadOnlyList<PlannedImage>> legs)
        {
            Directory = directory;
            Id = id;
            _legs = legs;
            _images = legs.Values.SelectMany(images => images).ToDictionary(image => image.Name, StringComparer.Ordinal);
        }

        public string Directory { get; }
        public string Id { get; }
        public IEnumerable<string> LegIds => _legs.Keys;
        public IEnumerable<PlannedImage> Images => _images.Values;

        public PlannedImage? Find(string name) => _images.TryGetValue(name, out var image) ? image : null;

        /// <summary>The images of leg <paramref name="leg"/>; throws PlanLegNotFound naming the legs there are.</summary>
        public IReadOnlyList<PlannedImage> Leg(string leg)
        {
            if (_legs.TryGetValue(leg, out var images)) return images;
            throw new ImageToolsException("PlanLegNotFound", FaultKind.ObjectNotFound,
                $"The plan {Path.Combine(Directory, BuildPlanFile.FileName)} has no leg '{leg}'; its legs are " +
                (_legs.Count == 0 ? "none (nothing was stale)" : string.Join(", ", _legs.Keys)) + ". Pass a leg id from the plan job's matrix.");
        }

        public static PlanFolder Read(string directory)
        {
            var path = Path.Combine(directory, BuildPlanFile.FileName);
            if (!File.Exists(path))
                throw new ImageToolsException("PlanNotFound", FaultKind.ObjectNotFound,
                    $"There is no {BuildPlanFile.FileName} in {directory}. Pass the folder New-ImageBuildPlan -Path wrote (the plan job's artifact).", path);
            JsonValue json;
            try { json = JsonValue.Parse(File.ReadAllText(path)); }
            catch (JsonFormatException e) { throw Invalid(path, e.Message); }
            if (json["format"]?.AsString != BuildPlanFile.Format) throw Invalid(path, $"its format is not '{BuildPlanFile.Format}'");
            var version = json["version"]?.AsInt64;
            if (version != BuildPlanFile.FormatVersion)
                throw Invalid(path, $"its version is {version?.ToString(CultureInfo.InvariantCulture) ?? "missing"}; this ImageTools reads version {BuildPlanFile.FormatVersion}");

            var legs = new Dictionary<string, IReadOnlyList<PlannedImage>>(StringComparer.Ordinal);
            foreach (var wave in json["waves"]?.Items ?? Array.Empty<JsonValue>())
            {
                var number = (int)(wave["wave"]?.AsInt64 ?? throw Invalid(path, "a wave has no number"));
                foreach (var leg in wave["legs"]?.Items ?? Array.Empty<JsonValue>())
                {
                    var id = Required(leg, "id", path);
                    legs[id] = (leg["images"]?.Items ?? Array.Empty<JsonValue>()).Select(image => new PlannedImage(
                        Required(image, "name", path), Required(image, "reference", path), Required(image, "inputsDigest", path), id, number,
                        (image["dependencies"]?.Items ?? Array.Empty<JsonValue>()).Select(d => d.AsString ?? "").ToList(),
                        ParentsOf(image["parents"], path))).ToList();
                }
            }
            // Up-to-date parents are pinned per child, by the digests in its own "parents" entry.
            return new PlanFolder(directory, Required(json, "id", path), legs);
        }

        /// <summary>The records of this plan's legs under the folder, by leg id; records of other plans are left out.</summary>
        public IReadOnlyDictionary<string, LegRecord> Records()
        {
            var records = new Dictionary<string, LegRecord>(StringComparer.Ordinal);
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "leg-*.json", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                JsonValue json;
                try { json = JsonValue.Parse(File.ReadAllText(file)); }
                catch (JsonFormatException e) { throw Invalid(file, e.Message); }
                var record = LegRecord.FromJson(json, file);
                if (record.PlanId != Id || !_legs.ContainsKey(record.Leg)) continue;
                records[record.Leg] = record;
            }
            return records;
        }

        /// <summary>Writes a leg's record into the folder's <c>legs/</c>, atomically.</summary>
        public string Write(LegRecord record)
        {
            var folder = Path.Combine(Directory, "legs");
            System.IO.Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, LegRecord.FileNameOf(record.Leg));
            AtomicFile.WriteAllText(path, record.ToJson().ToIndentedJson());
            return path;
        }

        private static IReadOnlyList<ParentImage> ParentsOf(JsonValue? parents, string path) =>
            (parents?.Items ?? Array.Empty<JsonValue>()).Select(parent => new ParentImage(Required(parent, "name", path),
                Required(parent, "reference", path), Required(parent, "digest", path), parent["manifestDigest"]?.AsString)).ToList();

        internal static string Required(JsonValue item, string member, string path) =>
            item[member]?.AsString ?? throw Invalid(path, $"a '{member}' is missing");

        internal static ImageToolsException Invalid(string path, string why) =>
            new ImageToolsException("PlanInvalid", FaultKind.InvalidData,
                $"{path} is not a plan file ImageTools can read: {why}. Write the plan again with New-ImageBuildPlan.", path);
    }
}
