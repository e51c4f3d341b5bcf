using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ImageTools.Definitions
{
    /// <summary>
    /// A YAML mapping read with its positions, so every complaint about a value can name file and
    /// line. The typed readers below are the only place that turns YAML nodes into settings.
    /// </summary>
    internal sealed class YamlFile
    {
        private YamlFile(string path, YamlMappingNode root)
        {
            Path = path;
            Root = root;
        }

        public string Path { get; }
        public YamlMappingNode Root { get; }

        public static YamlFile Load(string path)
        {
            string text;
            try { text = File.ReadAllText(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("FileUnreadable", FaultKind.ResourceUnavailable,
                    $"Cannot read the file: {e.Message}", path, inner: e);
            }
            return Parse(text, path);
        }

        public static YamlFile Parse(string text, string path)
        {
            var stream = new YamlStream();
            var parser = new Parser(new StringReader(text));
            try { stream.Load(parser); }
            catch (InvalidOperationException e)
            {
                // YamlDotNet throws this, without a position, for some unclosed flow collections;
                // the last event it read is the nearest place to point at.
                throw new ImageToolsException("InvalidYaml", FaultKind.InvalidData,
                    "Not valid YAML: a [list] or {mapping} is not closed. Fix the syntax at that line.",
                    path, parser.Current == null ? (int?)null : checked((int)parser.Current.Start.Line), inner: e);
            }
            catch (YamlException e)
            {
                // YamlDotNet wraps the useful message; the innermost one names the actual fault.
                var inner = e;
                while (inner.InnerException is YamlException deeper) inner = deeper;
                throw new ImageToolsException("InvalidYaml", FaultKind.InvalidData,
                    $"Not valid YAML: {StripPosition(inner.Message)} Fix the syntax at that line.",
                    path, checked((int)e.Start.Line), inner: e);
            }
            if (stream.Documents.Count == 0) return new YamlFile(path, new YamlMappingNode());
            if (stream.Documents.Count > 1)
                throw new ImageToolsException("InvalidYaml", FaultKind.InvalidData,
                    "Holds more than one YAML document; keep a single mapping of settings.",
                    path, checked((int)stream.Documents[1].RootNode.Start.Line));
            var root = stream.Documents[0].RootNode;
            if (root is YamlScalarNode empty && string.IsNullOrEmpty(empty.Value))
                return new YamlFile(path, new YamlMappingNode());
            if (root is not YamlMappingNode mapping)
                throw Invalid(path, root, "The file must be a mapping of settings (key: value).");
            return new YamlFile(path, mapping);
        }

        public IEnumerable<KeyValuePair<string, YamlNode>> Entries()
        {
            foreach (var pair in Root.Children)
            {
                if (pair.Key is not YamlScalarNode key || key.Value == null)
                    throw Invalid(Path, pair.Key, "Keys must be plain names.");
                yield return new KeyValuePair<string, YamlNode>(key.Value, pair.Value);
            }
        }

        /// <summary>Rejects keys outside <paramref name="known"/>: a typo should not silently do nothing.</summary>
        public void RejectUnknownKeys(IReadOnlyCollection<string> known)
        {
            foreach (var pair in Root.Children)
            {
                var key = ((YamlScalarNode)pair.Key).Value!;
                if (!known.Contains(key))
                    throw Invalid(Path, pair.Key,
                        $"Unknown key '{key}'. Known keys: {string.Join(", ", known)}.");
            }
        }

        public YamlNode? Node(string key) =>
            Root.Children.TryGetValue(new YamlScalarNode(key), out var node) && !IsNull(node) ? node : null;

        public int LineOf(string key) =>
            Root.Children.Keys.OfType<YamlScalarNode>().Where(k => k.Value == key)
                .Select(k => checked((int)k.Start.Line)).FirstOrDefault();

        public string? String(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node is YamlScalarNode scalar) return scalar.Value;
            throw Invalid(Path, node, $"'{key}' must be a single value, not a list or mapping.");
        }

        public int? Integer(string key)
        {
            var text = String(key);
            if (text == null) return null;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
            throw Invalid(Path, Node(key)!, $"'{key}' must be a whole number, not '{text}'.");
        }

        /// <summary>A list of strings; a single scalar is accepted as a list of one.</summary>
        public IReadOnlyList<string> StringList(string key)
        {
            var node = Node(key);
            switch (node)
            {
                case null: return Array.Empty<string>();
                case YamlScalarNode scalar: return new[] { scalar.Value ?? "" };
                case YamlSequenceNode sequence:
                    return sequence.Children.Select(item => item is YamlScalarNode s && s.Value != null
                        ? s.Value
                        : throw Invalid(Path, item, $"Every item of '{key}' must be a single value.")).ToArray();
                default:
                    throw Invalid(Path, node, $"'{key}' must be a list of values.");
            }
        }

        public IReadOnlyDictionary<string, string> StringMap(string key)
        {
            var node = Node(key);
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node == null) return result;
            if (node is not YamlMappingNode mapping)
                throw Invalid(Path, node, $"'{key}' must be a mapping (NAME: value).");
            foreach (var pair in mapping.Children)
            {
                if (pair.Key is not YamlScalarNode k || string.IsNullOrEmpty(k.Value))
                    throw Invalid(Path, pair.Key, $"Keys under '{key}' must be plain names.");
                if (pair.Value is not YamlScalarNode v)
                    throw Invalid(Path, pair.Value, $"'{key}.{k.Value}' must be a single value.");
                result[k.Value!] = v.Value ?? "";
            }
            return result;
        }

        /// <summary>A plain .NET shape of a node (string, list, dictionary), for template variables.</summary>
        public static object? ToPlain(YamlNode node)
        {
            switch (node)
            {
                case YamlScalarNode scalar:
                    if (IsNull(scalar)) return null;
                    if (scalar.Style == YamlDotNet.Core.ScalarStyle.Plain)
                    {
                        if (scalar.Value == "true" || scalar.Value == "True") return true;
                        if (scalar.Value == "false" || scalar.Value == "False") return false;
                        if (long.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return n;
                    }
                    return scalar.Value;
                case YamlSequenceNode sequence:
                    return sequence.Children.Select(ToPlain).ToList();
                case YamlMappingNode mapping:
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var pair in mapping.Children)
                        map[((YamlScalarNode)pair.Key).Value ?? ""] = ToPlain(pair.Value);
                    return map;
                default:
                    return null;
            }
        }

        public static ImageToolsException Invalid(string path, YamlNode node, string message) =>
            new ImageToolsException("InvalidSetting", FaultKind.InvalidData, message, path, checked((int)node.Start.Line));

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode s && s.Style == YamlDotNet.Core.ScalarStyle.Plain &&
            (s.Value == null || s.Value == "" || s.Value == "~" || s.Value == "null");

        // "(Line: 3, Col: 5, Idx: 20) - (Line: ...): message" → "message"
        private static string StripPosition(string message)
        {
            var marker = message.IndexOf("): ", StringComparison.Ordinal);
            var text = marker >= 0 && message.StartsWith("(", StringComparison.Ordinal) ? message.Substring(marker + 3) : message;
            return text.EndsWith(".", StringComparison.Ordinal) ? text : text + ".";
        }
    }
}
