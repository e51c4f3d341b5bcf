using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ImageTools.Json
{
    internal enum JsonKind { Object, Array, String, Number, True, False, Null }

    /// <summary>
    /// A parsed JSON value. The engine keeps its own small reader rather than System.Text.Json:
    /// on netstandard2.0 that package drags in nine more assemblies that PowerShell 5.1 hosts often
    /// already load in other versions, and registries only need objects, strings and integers.
    /// Objects keep their members in document order; numbers keep their text.
    /// </summary>
    internal sealed class JsonValue
    {
        private static readonly IReadOnlyList<JsonValue> NoItems = new JsonValue[0];
        private static readonly IReadOnlyList<KeyValuePair<string, JsonValue>> NoMembers = new KeyValuePair<string, JsonValue>[0];

        private readonly string? _text;
        private readonly IReadOnlyList<JsonValue> _items;
        private readonly IReadOnlyList<KeyValuePair<string, JsonValue>> _members;

        private JsonValue(JsonKind kind, string? text = null, IReadOnlyList<JsonValue>? items = null,
            IReadOnlyList<KeyValuePair<string, JsonValue>>? members = null)
        {
            Kind = kind;
            _text = text;
            _items = items ?? NoItems;
            _members = members ?? NoMembers;
        }

        public static JsonValue Null { get; } = new JsonValue(JsonKind.Null);
        public static JsonValue True { get; } = new JsonValue(JsonKind.True);
        public static JsonValue False { get; } = new JsonValue(JsonKind.False);

        public JsonKind Kind { get; }

        /// <summary>Array items; empty for other kinds.</summary>
        public IReadOnlyList<JsonValue> Items => _items;

        /// <summary>Object members in document order; empty for other kinds.</summary>
        public IReadOnlyList<KeyValuePair<string, JsonValue>> Members => _members;

        /// <summary>The member named <paramref name="name"/>; null when missing or when this is not an object.</summary>
        public JsonValue? this[string name]
        {
            get
            {
                foreach (var member in _members)
                    if (member.Key == name) return member.Value;
                return null;
            }
        }

        /// <summary>The string of a String value, else null.</summary>
        public string? AsString => Kind == JsonKind.String ? _text : null;

        /// <summary>The integer of a Number value that is one, else null.</summary>
        public long? AsInt64 =>
            Kind == JsonKind.Number && long.TryParse(_text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value : (long?)null;

        public bool? AsBoolean => Kind == JsonKind.True ? true : Kind == JsonKind.False ? false : (bool?)null;

        /// <summary>The number as written in the document.</summary>
        public string? NumberText => Kind == JsonKind.Number ? _text : null;

        public static JsonValue String(string value) => new JsonValue(JsonKind.String, value ?? throw new ArgumentNullException(nameof(value)));

        public static JsonValue Number(long value) => new JsonValue(JsonKind.Number, value.ToString(CultureInfo.InvariantCulture));

        public static JsonValue Boolean(bool value) => value ? True : False;

        public static JsonValue Array(IEnumerable<JsonValue> items) => new JsonValue(JsonKind.Array, items: items.ToList());

        public static JsonValue Array(params JsonValue[] items) => Array((IEnumerable<JsonValue>)items);

        /// <summary>An object with members in the given order; a repeated name is an error.</summary>
        public static JsonValue Object(IEnumerable<KeyValuePair<string, JsonValue>> members)
        {
            var list = members.ToList();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var member in list)
                if (!names.Add(member.Key)) throw new ArgumentException($"The member '{member.Key}' is given twice.", nameof(members));
            return new JsonValue(JsonKind.Object, members: list);
        }

        public static JsonValue Object(params (string Name, JsonValue Value)[] members) =>
            Object(members.Select(m => new KeyValuePair<string, JsonValue>(m.Name, m.Value)));

        internal static JsonValue RawNumber(string text) => new JsonValue(JsonKind.Number, text);

        internal static JsonValue RawObject(List<KeyValuePair<string, JsonValue>> members) => new JsonValue(JsonKind.Object, members: members);

        internal static JsonValue RawArray(List<JsonValue> items) => new JsonValue(JsonKind.Array, items: items);

        /// <summary>Parses one JSON document (RFC 8259, strictly: no comments, trailing commas or repeated names).</summary>
        /// <exception cref="JsonFormatException">The text is not JSON.</exception>
        public static JsonValue Parse(string text) => new JsonParser(text).ParseDocument();

        /// <summary>Parses UTF-8 bytes; invalid UTF-8 is a format error. A byte order mark is skipped only when allowed.</summary>
        public static JsonValue Parse(byte[] utf8, bool allowByteOrderMark = false)
        {
            var offset = allowByteOrderMark && utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0;
            string text;
            try { text = new UTF8Encoding(false, true).GetString(utf8, offset, utf8.Length - offset); }
            catch (DecoderFallbackException e) { throw new JsonFormatException("the bytes are not valid UTF-8", 0, e); }
            return Parse(text);
        }

        /// <summary>Compact JSON text for this value.</summary>
        public string ToJson()
        {
            var builder = new StringBuilder();
            Write(builder, indented: false, depth: 0);
            return builder.ToString();
        }

        /// <summary>JSON text for people to read: one member or item a line, two spaces a level, a final newline.</summary>
        public string ToIndentedJson()
        {
            var builder = new StringBuilder();
            Write(builder, indented: true, depth: 0);
            return builder.Append('\n').ToString();
        }

        public override string ToString() => ToJson();

        private void Write(StringBuilder into, bool indented, int depth)
        {
            switch (Kind)
            {
                case JsonKind.Null: into.Append("null"); break;
                case JsonKind.True: into.Append("true"); break;
                case JsonKind.False: into.Append("false"); break;
                case JsonKind.Number: into.Append(_text); break;
                case JsonKind.String: WriteString(into, _text!); break;
                case JsonKind.Array:
                    WriteContainer(into, '[', ']', _items.Count, indented, depth, i => _items[i].Write(into, indented, depth + 1));
                    break;
                case JsonKind.Object:
                    WriteContainer(into, '{', '}', _members.Count, indented, depth, i =>
                    {
                        WriteString(into, _members[i].Key);
                        into.Append(indented ? ": " : ":");
                        _members[i].Value.Write(into, indented, depth + 1);
                    });
                    break;
            }
        }

        private static void WriteContainer(StringBuilder into, char open, char close, int count, bool indented, int depth, Action<int> writeItem)
        {
            into.Append(open);
            for (var i = 0; i < count; i++)
            {
                if (i > 0) into.Append(',');
                if (indented) into.Append('\n').Append(' ', 2 * (depth + 1));
                writeItem(i);
            }
            if (indented && count > 0) into.Append('\n').Append(' ', 2 * depth);
            into.Append(close);
        }

        private static void WriteString(StringBuilder into, string value)
        {
            into.Append('"');
            foreach (var c in value)
            {
                switch (c)
                {
                    case '"': into.Append("\\\""); break;
                    case '\\': into.Append("\\\\"); break;
                    case '\n': into.Append("\\n"); break;
                    case '\r': into.Append("\\r"); break;
                    case '\t': into.Append("\\t"); break;
                    case '\b': into.Append("\\b"); break;
                    case '\f': into.Append("\\f"); break;
                    default:
                        if (c < 0x20) into.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else into.Append(c);
                        break;
                }
            }
            into.Append('"');
        }
    }

    /// <summary>Text that is not JSON; <see cref="Position"/> is the 0-based character offset of the fault.</summary>
    internal sealed class JsonFormatException : FormatException
    {
        public JsonFormatException(string reason, int position, Exception? inner = null)
            : base($"{reason} at character {position + 1}", inner)
        {
            Reason = reason;
            Position = position;
        }

        public string Reason { get; }
        public int Position { get; }
    }
}
