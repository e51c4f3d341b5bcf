using System;
using System.Collections.Generic;

namespace ImageTools
{
    internal static class Dictionaries
    {
        /// <summary><paramref name="basis"/> with <paramref name="over"/> on top; returns <paramref name="basis"/> itself when there is nothing to add.</summary>
        public static IReadOnlyDictionary<string, string> Overlay(IReadOnlyDictionary<string, string> basis, IReadOnlyDictionary<string, string>? over)
        {
            if (over == null || over.Count == 0) return basis;
            var merged = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in basis) merged[pair.Key] = pair.Value;
            foreach (var pair in over) merged[pair.Key] = pair.Value;
            return merged;
        }

        /// <summary>Whether both hold the same keys with the same values (ordinal).</summary>
        public static bool SameEntries(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
        {
            if (a.Count != b.Count) return false;
            foreach (var pair in a)
                if (!b.TryGetValue(pair.Key, out var value) || !string.Equals(value, pair.Value, StringComparison.Ordinal)) return false;
            return true;
        }
    }
}
