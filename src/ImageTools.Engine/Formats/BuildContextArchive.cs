using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;

namespace ImageTools.Formats
{
    /// <summary>
    /// Writes a build context as the tar the Engine API's <c>POST /build</c> takes: the entries of
    /// <see cref="BuildContext.Collect"/>, then files made in memory (the rendered Dockerfile).
    /// POSIX ustar, with a pax header where a name or link target does not fit (long or not ASCII).
    /// As the docker CLI sends them: owner 0:0, the file's modification time; modes are 0755 for
    /// directories and executables and 0644 for the rest, since the exec bit is all the inputs
    /// digest records (the CLI sends the checkout's own bits, which depend on the umask).
    /// </summary>
    internal static class BuildContextArchive
    {
        private const int Block = 512;

        public static void Write(Stream output, IEnumerable<BuildContextEntry> entries, IEnumerable<KeyValuePair<string, byte[]>> extraFiles,
            CancellationToken cancellationToken = default)
        {
            var buffer = new byte[81920];
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                switch (entry.Kind)
                {
                    case 'd':
                        WriteHeader(output, entry.RelativePath + "/", '5', 0x1ED /* 0755 */, 0, Directory.GetLastWriteTimeUtc(entry.FullPath), null);
                        break;
                    case 'l':
                        WriteHeader(output, entry.RelativePath, '2', 0x1FF /* 0777 */, 0, File.GetLastWriteTimeUtc(entry.FullPath), entry.LinkTarget ?? "");
                        break;
                    default:
                        using (var file = new FileStream(entry.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, buffer.Length, FileOptions.SequentialScan))
                        {
                            // The length is the one the header promises: a file that grows while it is sent is cut, one that shrinks is padded.
                            var length = file.Length;
                            WriteHeader(output, entry.RelativePath, '0', entry.Executable ? 0x1ED : 0x1A4 /* 0644 */, length, File.GetLastWriteTimeUtc(entry.FullPath), null);
                            var left = length;
                            while (left > 0)
                            {
                                var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                                if (read == 0) break;
                                output.Write(buffer, 0, read);
                                left -= read;
                            }
                            if (left > 0) WriteZeros(output, left);
                            Pad(output, length);
                        }
                        break;
                }
            }
            var now = DateTime.UtcNow;
            foreach (var extra in extraFiles)
            {
                WriteHeader(output, extra.Key, '0', 0x1A4, extra.Value.Length, now, null);
                output.Write(extra.Value, 0, extra.Value.Length);
                Pad(output, extra.Value.Length);
            }
            // Two zero blocks end the archive.
            WriteZeros(output, 2 * Block);
        }

        private static void WriteHeader(Stream output, string name, char type, int mode, long size, DateTime modified, string? linkTarget)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var linkBytes = Encoding.UTF8.GetBytes(linkTarget ?? "");
            var pax = new List<(string Key, string Value)>();
            if (nameBytes.Length > 100 || !IsAscii(name)) pax.Add(("path", name));
            if (linkBytes.Length > 100 || !IsAscii(linkTarget ?? "")) pax.Add(("linkpath", linkTarget!));
            if (size > 077777777777L) pax.Add(("size", size.ToString(CultureInfo.InvariantCulture)));
            if (pax.Count > 0)
            {
                var records = new MemoryStream();
                foreach (var (key, value) in pax)
                {
                    var record = PaxRecord(key, value);
                    records.Write(record, 0, record.Length);
                }
                var body = records.ToArray();
                WriteRawHeader(output, Ascii("PaxHeaders/" + Shorten(name)), 'x', 0x1A4, body.Length, modified, Array.Empty<byte>());
                output.Write(body, 0, body.Length);
                Pad(output, body.Length);
            }
            WriteRawHeader(output, nameBytes.Length > 100 || !IsAscii(name) ? Ascii(Shorten(name)) : nameBytes, type, mode,
                size > 077777777777L ? 0 : size, modified, linkBytes.Length > 100 || !IsAscii(linkTarget ?? "") ? Array.Empty<byte>() : linkBytes);
        }

        private static void WriteRawHeader(Stream output, byte[] name, char type, int mode, long size, DateTime modified, byte[] linkName)
        {
            var header = new byte[Block];
            Array.Copy(name, header, Math.Min(name.Length, 100));
            Octal(header, 100, 8, mode);
            Octal(header, 108, 8, 0);
            Octal(header, 116, 8, 0);
            Octal(header, 124, 12, size);
            var seconds = (long)(modified - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;
            Octal(header, 136, 12, Math.Max(0, seconds));
            header[156] = (byte)type;
            Array.Copy(linkName, 0, header, 157, Math.Min(linkName.Length, 100));
            Encoding.ASCII.GetBytes("ustar\0").CopyTo(header, 257);
            header[263] = (byte)'0';
            header[264] = (byte)'0';
            // The checksum is computed with its own field as spaces.
            for (var i = 148; i < 156; i++) header[i] = (byte)' ';
            long sum = 0;
            foreach (var b in header) sum += b;
            Octal(header, 148, 7, sum);
            header[155] = (byte)' ';
            output.Write(header, 0, Block);
        }

        /// <summary>"LEN key=value\n", where LEN counts the whole record, its own digits included.</summary>
        private static byte[] PaxRecord(string key, string value)
        {
            var payload = Encoding.UTF8.GetByteCount(" " + key + "=" + value + "\n");
            var length = payload + 1;
            while (length.ToString(CultureInfo.InvariantCulture).Length + payload > length) length++;
            return Encoding.UTF8.GetBytes(length.ToString(CultureInfo.InvariantCulture) + " " + key + "=" + value + "\n");
        }

        /// <summary>An ASCII stand-in of at most 100 bytes for the plain header; readers take the pax record's name.</summary>
        private static string Shorten(string name)
        {
            var ascii = new StringBuilder();
            foreach (var c in name) ascii.Append(c < 128 ? c : '_');
            var text = ascii.ToString();
            return text.Length <= 100 ? text : text.Substring(text.Length - 100);
        }

        private static bool IsAscii(string text)
        {
            foreach (var c in text) if (c >= 128) return false;
            return true;
        }

        private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

        /// <summary>Zero-padded octal digits, NUL-terminated, as ustar writes numbers.</summary>
        private static void Octal(byte[] header, int offset, int width, long value)
        {
            var digits = Convert.ToString(value, 8).PadLeft(width - 1, '0');
            Encoding.ASCII.GetBytes(digits, 0, width - 1, header, offset);
            header[offset + width - 1] = 0;
        }

        private static void Pad(Stream output, long length)
        {
            var rest = length % Block;
            if (rest != 0) WriteZeros(output, Block - rest);
        }

        private static void WriteZeros(Stream output, long count)
        {
            var zeros = new byte[Math.Min(count, 8192)];
            while (count > 0)
            {
                var chunk = (int)Math.Min(zeros.Length, count);
                output.Write(zeros, 0, chunk);
                count -= chunk;
            }
        }
    }
}
