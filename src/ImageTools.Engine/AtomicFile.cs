using System;
using System.IO;
using System.Text;

namespace ImageTools
{
    /// <summary>Writes that either happen whole or not at all: a temp file beside the target, then a rename.</summary>
    internal static class AtomicFile
    {
        private static readonly Encoding Utf8 = new UTF8Encoding(false);

        public static void WriteAllText(string path, string text)
        {
            var temp = TempPathFor(path);
            try
            {
                File.WriteAllText(temp, text, Utf8);
                MoveOver(temp, path);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }

        /// <summary>Moves <paramref name="source"/> over <paramref name="destination"/> in one step (File.Replace needs an existing target).</summary>
        public static void MoveOver(string source, string destination)
        {
            if (File.Exists(destination)) File.Replace(source, destination, null);
            else File.Move(source, destination);
        }

        /// <summary>A unique temp name in the target's directory, so the rename never crosses file systems.</summary>
        public static string TempPathFor(string path) => path + ".tmp-" + Guid.NewGuid().ToString("N").Substring(0, 8);
    }
}
