using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageTools.Graph;

namespace ImageTools.Planning
{
    /// <summary>
    /// What one leg of a plan builds on its agent (Invoke-ImageBuild -Plan -Leg): its images, checked
    /// against the checkout; the parents they build on, by the digests earlier legs staged or the check
    /// saw published; and the images that cannot build because a parent's leg failed.
    /// </summary>
    internal sealed class LegWork
    {
        private LegWork(IReadOnlyList<ImageNode> toBuild, IReadOnlyList<(ImageNode Node, string Reason)> blocked,
            IReadOnlyList<ParentImage> parents, IReadOnlyDictionary<string, string> inputsDigests)
        {
            ToBuild = toBuild;
            Blocked = blocked;
            Parents = parents;
            InputsDigests = inputsDigests;
        }

        /// <summary>The leg's images that can build, in build order.</summary>
        public IReadOnlyList<ImageNode> ToBuild { get; }
        /// <summary>Images of the leg that are not built because a parent's leg failed or did not stage it, with the reason.</summary>
        public IReadOnlyList<(ImageNode Node, string Reason)> Blocked { get; }
        /// <summary>Every parent the leg's images build on and do not build themselves, pinned by digest.</summary>
        public IReadOnlyList<ParentImage> Parents { get; }
        /// <summary>The plan's inputs digests, which the checkout was found to match.</summary>
        public IReadOnlyDictionary<string, string> InputsDigests { get; }

        /// <summary>
        /// Throws before anything is built when the checkout is not the plan's (an image missing or its
        /// inputs changed) or when a parent's leg left no record in the plan folder.
        /// </summary>
        public static LegWork Prepare(PlanFolder plan, string leg, ImageGraph graph, BuildInputDigester digester,
            IReadOnlyDictionary<string, string> buildArgs, CancellationToken cancellationToken)
        {
            var planned = plan.Leg(leg);
            var records = plan.Records();
            var staged = records.Values.SelectMany(record => record.Images).ToDictionary(image => image.Name, StringComparer.Ordinal);

            var nodes = new List<ImageNode>();
            var digests = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var image in planned)
            {
                var node = graph.Find(image.Name) ?? throw new ImageToolsException("PlanImageNotInTree", FaultKind.ObjectNotFound,
                    $"The plan's leg {leg} builds '{image.Name}', which the tree at {graph.Tree.Root} does not have. " +
                    "Check out the commit the plan was made from.", graph.Tree.Root, imageName: image.Name);
                var inputs = digester.Compute(node.Definition, buildArgs, cancellationToken);
                if (inputs != image.InputsDigest)
                    throw new ImageToolsException("PlanOutOfDate", FaultKind.InvalidData,
                        $"The inputs of '{image.Name}' here ({inputs}) are not the ones the plan was made from ({image.InputsDigest}); nothing was built. " +
                        "Check out the commit the plan job used, with the same -BuildArg as its Test-ImageNeedsRebuild, or make the plan again.",
                        node.Directory, imageName: image.Name);
                nodes.Add(node);
                digests[image.Name] = inputs;
            }

            var parents = new Dictionary<string, ParentImage>(StringComparer.Ordinal);
            var blocked = new List<(ImageNode, string)>();
            var toBuild = new List<ImageNode>();
            foreach (var (image, node) in planned.Zip(nodes, (image, node) => (image, node)))
            {
                string? reason = null;
                foreach (var parent in image.Dependencies)
                {
                    var rebuilt = plan.Find(parent);
                    if (rebuilt == null)
                    {
                        var seen = image.Parents.FirstOrDefault(p => p.Name == parent);
                        if (seen != null) parents[parent] = seen;
                        continue;
                    }
                    if (!staged.TryGetValue(parent, out var record))
                        throw new ImageToolsException("PlanParentNotStaged", FaultKind.ObjectNotFound,
                            $"'{image.Name}' builds on '{parent}', which leg {rebuilt.Leg} of this plan builds, but no record of that leg is under {plan.Directory}; " +
                            $"nothing was built. Run this leg after {rebuilt.Leg}'s Publish-Image -Plan -Stage, with its leg-{rebuilt.Leg}.json downloaded into the plan folder.",
                            plan.Directory, imageName: image.Name);
                    if (!record.Succeeded)
                    {
                        reason ??= $"Not built: '{parent}', which it builds on, was not staged by leg {rebuilt.Leg} ({record.Status}{(record.Error == null ? "" : ": " + record.Error)}).";
                        continue;
                    }
                    parents[parent] = new ParentImage(parent, record.Reference, record.Digest!, record.ManifestDigest);
                }
                if (reason == null) toBuild.Add(node);
                else blocked.Add((node, reason));
            }
            return new LegWork(graph.InBuildOrder(toBuild), blocked, parents.Values.ToList(), digests);
        }
    }
}
