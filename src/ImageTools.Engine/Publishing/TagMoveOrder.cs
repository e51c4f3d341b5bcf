using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace ImageTools.Publishing
{
    /// <summary>
    /// The order tags move in at the end of an all-or-none run (docs/runs.md), for Publish-Image and Copy-Image alike:
    /// nothing moves when anything of the run failed before (atomic); else each item's first tag (an image's version
    /// tag, a copy's first destination tag) moves, item by item in the order given, and only once every first tag is
    /// in place do the other tags (latest, extra tags) move. An interruption leaves every tag old or new, no floating tag
    /// points at content whose first tag is not in place, and a rerun completes what is left. Moves run one after the
    /// other: a tag move is one manifest PUT, and the order is the promise.
    /// </summary>
    internal static class TagMoveOrder
    {
        /// <param name="items">What was staged (uploaded by digest), in the order its tags move.</param>
        /// <param name="atomic">Hold every tag back when anything failed, and the other tags when a first tag failed.</param>
        /// <param name="anythingFailed">Something of the run failed before its tags were due (an upload, a verification).</param>
        /// <param name="holdBack">Marks an item whose tags do not move because of <paramref name="anythingFailed"/>.</param>
        /// <param name="moveFirst">Moves an item's first tag; false when it failed (the item says why).</param>
        /// <param name="othersHeldBack">Marks an item whose first tag moved but whose other tags wait for the items named, whose first tag failed.</param>
        /// <param name="moveOthers">Moves an item's other tags.</param>
        public static async Task RunAsync<T>(IReadOnlyList<T> items, bool atomic, bool anythingFailed, Action<T> holdBack,
            Func<T, Task<bool>> moveFirst, Action<T, IReadOnlyList<T>> othersHeldBack, Func<T, Task> moveOthers)
        {
            if (atomic && anythingFailed)
            {
                foreach (var item in items) holdBack(item);
                return;
            }
            var moved = new List<T>();
            var failed = new List<T>();
            foreach (var item in items)
                (await moveFirst(item).ConfigureAwait(false) ? moved : failed).Add(item);
            foreach (var item in moved)
            {
                if (atomic && failed.Count > 0) othersHeldBack(item, failed);
                else await moveOthers(item).ConfigureAwait(false);
            }
        }
    }
}
