using System;
using System.Collections;
using System.Collections.Generic;

namespace ImageTools.Commands
{
    internal static class Hashtables
    {
        /// <summary>@{ KEY = value } as the engine's string map; null values become empty strings.</summary>
        public static IReadOnlyDictionary<string, string> ToStrings(Hashtable? table)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (table == null) return result;
            foreach (DictionaryEntry entry in table) result[entry.Key.ToString()!] = entry.Value?.ToString() ?? "";
            return result;
        }
    }
}
