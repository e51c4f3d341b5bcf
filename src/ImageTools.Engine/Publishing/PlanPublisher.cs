using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Provenance;
using ImageTools.References;

namespace ImageTools.Publishing
{
    /// <summary>
    /// Publishing a fanned-out run (docs/ci.md): each leg stages its images by digest and leaves a record
    /// in the plan folder; the promote moves every tag of the run once every leg's record is there and
    /// every image of the plan was staged, and otherwise moves none.
    /// </summary>
    internal sealed class PlanPublisher
    {
        private readonly PlanFolder _plan;

        public PlanPublisher(PlanFolder plan) => _plan = plan;

        public PlanFolder Folder => _plan;

        /// <summary>The one leg the images belong to; throws when they belong to none or to several.</summary>
        public string LegOf(IEnumerable<string> names)
        {
            var legs = names.Select(name => (Name: name, Planned: _plan.Find(name))).ToList();
            var outside = legs.Where(l => l.Planned == null).Select(l => l.Name).ToList();
            if (outside.Count > 0)
                throw new ImageToolsException("ImageNotInPlan", FaultKind.InvalidArgument,
                    $"{string.Join(", ", outside)} {(outside.Count == 1 ? "is" : "are")} not in any leg of the plan in {_plan.Directory}. " +
                    "Pipe the results of Invoke-ImageBuild -Plan -Leg for this plan.", imageName: outside[0]);
            var distinct = legs.Select(l => l.Planned!.Leg).Distinct(StringComparer.Ordinal).ToList();
            if (distinct.Count != 1)
                throw new ImageToolsException("MixedLegs", FaultKind.InvalidArgument,
                    distinct.Count == 0 ? "No image was piped to stage." : $"The piped images belong to the legs {string.Join(", ", distinct)}; stage one leg at a time.");
            return distinct[0];
        }

        /// <summary>
        /// Uploads the leg's images by digest (no tag moves) and writes the leg's record: each image's outcome,
        /// image id, manifest digest, platform and inputs digest. Images of the leg that were not piped are
        /// recorded as not staged, so the promote and later legs name them.
        /// </summary>
        public async Task<(IReadOnlyList<PublishResult> Results, string RecordPath)> StageAsync(string leg, RegistryPublisher stager, IContainerEngine engine,
            IReadOnlyList<ImageToPublish> images, IReadOnlyList<UnpublishableImage> unpublishable, CancellationToken cancellationToken)
        {
            var results = await stager.PublishAsync(images, unpublishable, cancellationToken).ConfigureAwait(false);
            var byName = images.ToDictionary(image => image.Node.Name, StringComparer.Ordinal);
            var recorded = new List<LegRecordImage>();
            foreach (var result in results)
            {
                string? platform = null, inputs = null;
                if (result.Status == PublishStatus.Staged && byName.TryGetValue(result.Name, out var image))
                {
                    var inspected = await engine.InspectAsync(image.ImageId, cancellationToken).ConfigureAwait(false);
                    platform = (image.Platform ?? inspected?.Platform ?? image.Node.Definition.Platform ?? ImagePlatform.Host).ToString();
                    inputs = inspected != null && inspected.Labels.TryGetValue(ImageLabels.InputsDigest, out var stamped) ? stamped : null;
                }
                recorded.Add(new LegRecordImage(result.Name, result.Reference, result.Status == PublishStatus.Staged ? LegRecordImage.Staged : result.Status.ToString(),
                    result.Digest, result.ManifestDigest, platform, inputs, result.Error));
            }
            foreach (var planned in _plan.Leg(leg).Where(p => recorded.All(r => r.Name != p.Name)))
                recorded.Add(new LegRecordImage(planned.Name, planned.Reference, "NotPiped", null, null, null, null,
                    $"Not staged: its result was not piped to Publish-Image -Plan -Stage on leg {leg}."));
            return (results, _plan.Write(new LegRecord(_plan.Id, leg, recorded)));
        }

        /// <summary>
        /// Moves every tag of the plan's images, in build order, once every leg reported and staged all its
        /// images; otherwise (atomic) none, each held image naming what held it back.
        /// </summary>
        public Task<IReadOnlyList<PublishResult>> PromoteAsync(RegistryPublisher publisher, ImageGraph graph, CancellationToken cancellationToken)
        {
            var records = _plan.Records();
            var staged = records.Values.SelectMany(record => record.Images).GroupBy(image => image.Name, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Last(), StringComparer.Ordinal);
            var images = new List<(ImageToPublish, string, ImagePlatform?)>();
            var unpublishable = new List<UnpublishableImage>();
            var planned = _plan.Images.ToList();
            foreach (var image in planned)
            {
                var node = graph.Find(image.Name) ?? throw new ImageToolsException("PlanImageNotInTree", FaultKind.ObjectNotFound,
                    $"The plan promotes '{image.Name}', which the tree at {graph.Tree.Root} does not have. Check out the commit the plan was made from.",
                    graph.Tree.Root, imageName: image.Name);
                if (!records.ContainsKey(image.Leg))
                    unpublishable.Add(new UnpublishableImage(node, image.Reference, "LegNotReported",
                        $"Leg {image.Leg} left no record in {_plan.Directory}: it did not run, failed before staging, or its artifact was not downloaded."));
                else if (!staged.TryGetValue(image.Name, out var record) || !record.Succeeded)
                    unpublishable.Add(new UnpublishableImage(node, image.Reference, "LegFailed",
                        $"Leg {image.Leg} did not stage {image.Name}: {(record == null ? "its record does not name it" : record.Status + (record.Error == null ? "" : " — " + record.Error))}."));
                else
                    images.Add((new ImageToPublish(node, record.Digest!, TagOf(record.Reference)), record.ManifestDigest!, ImagePlatform.TryParse(record.Platform)));
            }
            var order = graph.InBuildOrder(images.Select(i => i.Item1.Node)).Select((node, index) => (node.Name, index))
                .ToDictionary(p => p.Name, p => p.index, StringComparer.Ordinal);
            return publisher.PromoteAsync(images.OrderBy(i => order[i.Item1.Node.Name]).ToList(), unpublishable, cancellationToken);
        }

        private static string TagOf(string reference) =>
            ImageReference.Parse(reference).Tag ?? throw new ImageToolsException("PlanInvalid", FaultKind.InvalidData, $"The leg record's reference {reference} has no tag.");
    }
}
