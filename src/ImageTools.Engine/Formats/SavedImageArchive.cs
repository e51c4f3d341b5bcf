using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ImageTools.Json;
using ImageTools.References;

namespace ImageTools.Formats
{
    /// <summary>
    /// A <c>docker save</c> tar, read in place: its <c>manifest.json</c> names each image's config
    /// and layers by path (<c>ID/layer.tar</c> in Docker's classic layout, <c>blobs/sha256/…</c> in
    /// the OCI layout of Docker 25+). Entries are located once and read as slices of the file.
    /// </summary>
    internal sealed class SavedImageArchive
    {
        private const int Block = 512;
        private readonly string _path;
        private readonly Dictionary<string, (long Offset, long Size)> _files = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _links = new Dictionary<string, string>(StringComparer.Ordinal);

        private SavedImageArchive(string path)
        {
            _path = path;
        }

        /// <summary>Locates the entries of the tar at <paramref name="path"/>.</summary>
        public static SavedImageArchive Open(string path)
        {
            var archive = new SavedImageArchive(path);
            using var stream = File.OpenRead(path);
            archive.Index(stream);
            return archive;
        }

        /// <summary>The config and layer paths of the image whose config digest is <paramref name="imageId"/>; null when the archive lacks it.</summary>
        public (string Config, IReadOnlyList<string> Layers)? FindImage(string imageId)
        {
            var manifest = JsonValue.Parse(ReadAll("manifest.json"));
            foreach (var image in manifest.Items)
            {
                var config = image["Config"]?.AsString;
                if (config == null || !Contains(config) || Digests.Sha256(ReadAll(config)) != imageId) continue;
                var layers = image["Layers"]?.Items.Select(l => l.AsString ?? throw Malformed("a layer path is not a string")).ToList();
                return (config, layers ?? new List<string>());
            }
            return null;
        }

        /// <summary>
        /// The <c>created</c> time in the config of the image <paramref name="imageId"/> (what <c>docker images</c> shows);
        /// null when the archive lacks the image or its config has no readable time.
        /// </summary>
        public DateTimeOffset? ImageCreated(string imageId)
        {
            if (FindImage(imageId) is not { } image) return null;
            return ParseCreated(JsonValue.Parse(ReadAll(image.Config))["created"]?.AsString);
        }

        /// <summary>An image config's RFC 3339 time; Go writes nanoseconds, which .NET parses only to seven digits.</summary>
        internal static DateTimeOffset? ParseCreated(string? text)
        {
            if (text == null) return null;
            text = System.Text.RegularExpressions.Regex.Replace(text, @"(\.\d{7})\d+", "$1");
            return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var created)
                ? created : (DateTimeOffset?)null;
        }

        public bool Contains(string name) => Resolve(name) != null;

        public byte[] ReadAll(string name)
        {
            using var stream = OpenEntry(name);
            var bytes = new byte[stream.Length];
            if (ReadFully(stream, bytes) < bytes.Length) throw Malformed($"{name} ends early");
            return bytes;
        }

        /// <summary>The entry's content, as a read-only stream over its slice of the tar.</summary>
        public Stream OpenEntry(string name)
        {
            var entry = Resolve(name) ?? throw Malformed($"it has no entry {name}");
            var file = File.OpenRead(_path);
            return new Slice(file, entry.Offset, entry.Size);
        }

        private (long Offset, long Size)? Resolve(string name)
        {
            // docker save writes a layer that two images share once and links the other to it.
            for (var hops = 0; hops < 16; hops++)
            {
                name = Normalize(name);
                if (_files.TryGetValue(name, out var entry)) return entry;
                if (!_links.TryGetValue(name, out var target)) return null;
                name = target;
            }
            return null;
        }

        private void Index(Stream stream)
        {
            var header = new byte[Block];
            string? longName = null;
            while (ReadFully(stream, header) == Block)
            {
                if (header.All(b => b == 0)) return;
                var size = ParseSize(header);
                var type = (char)header[156];
                var dataOffset = stream.Position;
                switch (type)
                {
                    case 'x':
                    case 'L':
                        longName = type == 'L' ? Text(ReadData(stream, size)) : PaxPath(ReadData(stream, size));
                        stream.Position = dataOffset + Padded(size);
                        continue;
                    case 'g':
                        stream.Position = dataOffset + Padded(size);
                        continue;
                }
                var name = Normalize(longName ?? HeaderName(header));
                longName = null;
                if (type == '0' || type == '\0') _files[name] = (dataOffset, size);
                else if (type == '1') _links[name] = Text(header, 157, 100);
                else if (type == '2') _links[name] = Combine(name, Text(header, 157, 100));
                stream.Position = dataOffset + Padded(size);
            }
        }

        private static string HeaderName(byte[] header)
        {
            var name = Text(header, 0, 100);
            var isUstar = Encoding.ASCII.GetString(header, 257, 5) == "ustar";
            var prefix = isUstar ? Text(header, 345, 155) : "";
            return prefix.Length > 0 ? prefix + "/" + name : name;
        }

        /// <summary>The <c>path</c> record of a PAX header (<c>LEN path=VALUE\n</c>), else null.</summary>
        private static string? PaxPath(byte[] data)
        {
            var position = 0;
            while (position < data.Length)
            {
                var space = Array.IndexOf(data, (byte)' ', position);
                if (space < 0 || !int.TryParse(Encoding.ASCII.GetString(data, position, space - position), out var length) || length <= 0) break;
                var record = Encoding.UTF8.GetString(data, space + 1, Math.Min(length - (space - position) - 2, data.Length - space - 1));
                if (record.StartsWith("path=", StringComparison.Ordinal)) return record.Substring(5);
                position += length;
            }
            return null;
        }

        private static long ParseSize(byte[] header)
        {
            // Sizes of 8 GiB and more are base-256: the first byte's high bit set, the rest big-endian.
            if ((header[124] & 0x80) != 0)
            {
                long value = 0;
                for (var i = 125; i < 136; i++) value = (value << 8) | header[i];
                return value;
            }
            var octal = Text(header, 124, 12).Trim();
            try { return octal.Length == 0 ? 0 : Convert.ToInt64(octal, 8); }
            catch (FormatException) { throw Malformed($"an entry has the size '{octal}'"); }
        }

        private static string Combine(string linkName, string target)
        {
            if (target.StartsWith("/", StringComparison.Ordinal)) return target;
            var directory = linkName.Contains('/') ? linkName.Substring(0, linkName.LastIndexOf('/') + 1) : "";
            return directory + target;
        }

        /// <summary>Archive paths as manifest.json spells them: no <c>./</c>, no <c>..</c> segments left.</summary>
        private static string Normalize(string name)
        {
            var parts = new List<string>();
            foreach (var part in name.Split('/'))
            {
                if (part.Length == 0 || part == ".") continue;
                if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
                parts.Add(part);
            }
            return string.Join("/", parts);
        }

        private static long Padded(long size) => (size + Block - 1) / Block * Block;

        private static byte[] ReadData(Stream stream, long size)
        {
            if (size > 1024 * 1024) throw Malformed("a header record is larger than 1 MiB");
            var data = new byte[size];
            if (ReadFully(stream, data) < data.Length) throw Malformed("it ends inside a header record");
            return data;
        }

        /// <summary>Fills <paramref name="buffer"/> unless the stream ends first; returns the bytes read.</summary>
        private static int ReadFully(Stream stream, byte[] buffer)
        {
            var read = 0;
            int n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0) read += n;
            return read;
        }

        private static string Text(byte[] data) => Encoding.UTF8.GetString(data).TrimEnd('\0', '\n');

        private static string Text(byte[] header, int offset, int length)
        {
            var end = Array.IndexOf(header, (byte)0, offset, length);
            return Encoding.UTF8.GetString(header, offset, (end < 0 ? offset + length : end) - offset);
        }

        private static ImageToolsException Malformed(string reason) =>
            new ImageToolsException("SavedImageUnreadable", FaultKind.InvalidData,
                $"The engine's saved image (docker save) could not be read: {reason}.");

        /// <summary>A read-only window onto part of a file; owns the file stream.</summary>
        private sealed class Slice : Stream
        {
            private readonly Stream _file;
            private readonly long _start;
            private long _position;

            public Slice(Stream file, long start, long length)
            {
                _file = file;
                _start = start;
                Length = length;
            }

            public override bool CanRead => true;
            public override bool CanSeek => true;
            public override bool CanWrite => false;
            public override long Length { get; }

            public override long Position
            {
                get => _position;
                set => _position = Math.Max(0, Math.Min(value, Length));
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                var wanted = (int)Math.Min(count, Length - _position);
                if (wanted <= 0) return 0;
                _file.Position = _start + _position;
                var n = _file.Read(buffer, offset, wanted);
                _position += n;
                return n;
            }

            public override long Seek(long offset, SeekOrigin origin)
            {
                Position = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? _position + offset : Length + offset;
                return _position;
            }

            public override void Flush() { }
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing) _file.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
