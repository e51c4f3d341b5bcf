using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ImageTools.Yaml
{
    public enum YamlKind
    {
        Scalar,
        Sequence,
        Mapping,
    }

    /// <summary>A YAML node with the line it starts on; scalars keep whether they were written plain (unquoted).</summary>
    public sealed class YamlValue
    {
        private static readonly IReadOnlyList<YamlValue> NoItems = new YamlValue[0];
        private static readonly IReadOnlyList<KeyValuePair<YamlValue, YamlValue>> NoPairs = new KeyValuePair<YamlValue, YamlValue>[0];

        private YamlValue(YamlKind kind, int line, string? text, bool isPlain,
            IReadOnlyList<YamlValue>? items, IReadOnlyList<KeyValuePair<YamlValue, YamlValue>>? pairs)
        {
            Kind = kind;
            Line = line;
            Text = text;
            IsPlain = isPlain;
            Items = items ?? NoItems;
            Pairs = pairs ?? NoPairs;
        }

        public YamlKind Kind { get; }
        /// <summary>1-based.</summary>
        public int Line { get; }
        /// <summary>A scalar's text; null for sequences and mappings.</summary>
        public string? Text { get; }
        public bool IsPlain { get; }
        public IReadOnlyList<YamlValue> Items { get; }
        /// <summary>A mapping's entries in file order.</summary>
        public IReadOnlyList<KeyValuePair<YamlValue, YamlValue>> Pairs { get; }

        /// <summary>Empty, <c>~</c> or <c>null</c>, unquoted.</summary>
        public bool IsNull => Kind == YamlKind.Scalar && IsPlain && (string.IsNullOrEmpty(Text) || Text == "~" || Text == "null");

        public static YamlValue EmptyMapping(int line) => new YamlValue(YamlKind.Mapping, line, null, false, null, null);

        internal static YamlValue From(YamlNode node)
        {
            var line = checked((int)node.Start.Line);
            switch (node)
            {
                case YamlScalarNode scalar:
                    return new YamlValue(YamlKind.Scalar, line, scalar.Value, scalar.Style == ScalarStyle.Plain, null, null);
                case YamlSequenceNode sequence:
                    return new YamlValue(YamlKind.Sequence, line, null, false, sequence.Children.Select(From).ToList(), null);
                case YamlMappingNode mapping:
                    return new YamlValue(YamlKind.Mapping, line, null, false, null,
                        mapping.Children.Select(p => new KeyValuePair<YamlValue, YamlValue>(From(p.Key), From(p.Value))).ToList());
                default:
                    // Aliases are resolved by the representation model; nothing else exists.
                    throw new YamlSyntaxException($"Unsupported YAML node {node.NodeType}.", line);
            }
        }
    }

    /// <summary>Not valid YAML: what is wrong, and the line where it was found when YamlDotNet knows it.</summary>
    public sealed class YamlSyntaxException : Exception
    {
        public YamlSyntaxException(string message, int? line, Exception? inner = null) : base(message, inner) => Line = line;

        public int? Line { get; }
    }

    public static class YamlReader
    {
        /// <summary>The documents of a YAML stream, each as its root node.</summary>
        /// <exception cref="YamlSyntaxException">The text is not valid YAML.</exception>
        public static IReadOnlyList<YamlValue> ReadDocuments(string text)
        {
            var stream = new YamlStream();
            var parser = new Parser(new StringReader(text));
            try { stream.Load(parser); }
            catch (InvalidOperationException e)
            {
                // YamlDotNet throws this, without a position, for some unclosed flow collections;
                // the last event it read is the nearest place to point at.
                throw new YamlSyntaxException("a [list] or {mapping} is not closed.",
                    parser.Current == null ? (int?)null : checked((int)parser.Current.Start.Line), e);
            }
            catch (YamlException e)
            {
                // YamlDotNet wraps the useful message; the innermost one names the actual fault.
                var inner = e;
                while (inner.InnerException is YamlException deeper) inner = deeper;
                throw new YamlSyntaxException(StripPosition(inner.Message), checked((int)e.Start.Line), e);
            }
            return stream.Documents.Select(d => YamlValue.From(d.RootNode)).ToList();
        }

        // "(Line: 3, Col: 5, Idx: 20) - (Line: ...): message" → "message"
        private static string StripPosition(string message)
        {
            var marker = message.IndexOf("): ", StringComparison.Ordinal);
            var text = marker >= 0 && message.StartsWith("(", StringComparison.Ordinal) ? message.Substring(marker + 3) : message;
            return text.EndsWith(".", StringComparison.Ordinal) ? text : text + ".";
        }
    }
}
