using System;
using System.Collections.Concurrent;
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
    /// points at content whose first tag is not in place, and a rerun completes what is left. Within each of the two
    /// phases the caller decides how moves are scheduled (<c>runPhase</c>): one after the other unless it says otherwise;
    /// Publish-Image runs independent images in parallel, a child never before its parents.
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
        /// <param name="runPhase">Runs one phase's moves over the items given, in their order's spirit; null: one after the other.</param>
        public static async Task RunAsync<T>(IReadOnlyList<T> items, bool atomic, bool anythingFailed, Action<T> holdBack,
            Func<T, Task<bool>> moveFirst, Action<T, IReadOnlyList<T>> othersHeldBack, Func<T, Task> moveOthers,
            Func<IReadOnlyList<T>, Func<T, Task>, Task>? runPhase = null) where T : notnull
        {
            runPhase ??= OneAfterAnotherAsync;
            if (atomic && anythingFailed)
            {
                foreach (var item in items) holdBack(item);
                return;
            }
            var firstMoved = new ConcurrentDictionary<T, bool>();
            await runPhase(items, async item => firstMoved[item] = await moveFirst(item).ConfigureAwait(false)).ConfigureAwait(false);
            var moved = items.Where(item => firstMoved[item]).ToList();
            var failed = items.Where(item => !firstMoved[item]).ToList();
            if (atomic && failed.Count > 0)
            {
                foreach (var item in moved) othersHeldBack(item, failed);
                return;
            }
            await runPhase(moved, moveOthers).ConfigureAwait(false);
        }

        private static async Task OneAfterAnotherAsync<T>(IReadOnlyList<T> items, Func<T, Task> move)
        {
            foreach (var item in items) await move(item).ConfigureAwait(false);
        }
    }
}
