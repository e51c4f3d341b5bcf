using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ImageTools.Yaml;

namespace ImageTools.Definitions
{
    /// <summary>
    /// A YAML mapping read with its positions, so every complaint about a value can name file and
    /// line. The typed readers below are the only place that turns YAML nodes into settings.
    /// </summary>
    internal sealed class YamlFile
    {
        private YamlFile(string path, YamlValue root)
        {
            Path = path;
            Root = root;
        }

        public string Path { get; }
        /// <summary>A mapping.</summary>
        public YamlValue Root { get; }

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
            IReadOnlyList<YamlValue> documents;
            try { documents = YamlReader.ReadDocuments(text); }
            catch (YamlSyntaxException e)
            {
                throw new ImageToolsException("InvalidYaml", FaultKind.InvalidData,
                    $"Not valid YAML: {e.Message} Fix the syntax at that line.", path, e.Line, inner: e);
            }
            if (documents.Count == 0) return new YamlFile(path, YamlValue.EmptyMapping(1));
            if (documents.Count > 1)
                throw new ImageToolsException("InvalidYaml", FaultKind.InvalidData,
                    "Holds more than one YAML document; keep a single mapping of settings.",
                    path, documents[1].Line);
            var root = documents[0];
            if (root.Kind == YamlKind.Scalar && string.IsNullOrEmpty(root.Text))
                return new YamlFile(path, YamlValue.EmptyMapping(root.Line));
            if (root.Kind != YamlKind.Mapping)
                throw Invalid(path, root, "The file must be a mapping of settings (key: value).");
            return new YamlFile(path, root);
        }

        /// <summary>A mapping inside a file (an item of a list of images), read with the same typed readers.</summary>
        public static YamlFile FromNode(string path, YamlValue mapping) => new YamlFile(path, mapping);

        public IEnumerable<KeyValuePair<string, YamlValue>> Entries()
        {
            foreach (var pair in Root.Pairs)
            {
                if (pair.Key.Kind != YamlKind.Scalar || pair.Key.Text == null)
                    throw Invalid(Path, pair.Key, "Keys must be plain names.");
                yield return new KeyValuePair<string, YamlValue>(pair.Key.Text, pair.Value);
            }
        }

        /// <summary>Rejects keys outside <paramref name="known"/>: a typo should not silently do nothing.</summary>
        public void RejectUnknownKeys(IReadOnlyCollection<string> known)
        {
            foreach (var entry in Entries())
            {
                if (!known.Contains(entry.Key))
                    throw new ImageToolsException("InvalidSetting", FaultKind.InvalidData,
                        $"Unknown key '{entry.Key}'. Known keys: {string.Join(", ", known)}.", Path, LineOf(entry.Key));
            }
        }

        public YamlValue? Node(string key) =>
            Root.Pairs.Where(p => p.Key.Kind == YamlKind.Scalar && p.Key.Text == key).Select(p => p.Value).FirstOrDefault(v => !v.IsNull);

        public int LineOf(string key) =>
            Root.Pairs.Where(p => p.Key.Kind == YamlKind.Scalar && p.Key.Text == key).Select(p => p.Key.Line).FirstOrDefault();

        public string? String(string key)
        {
            var node = Node(key);
            if (node == null) return null;
            if (node.Kind == YamlKind.Scalar) return node.Text;
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
            if (node == null) return Array.Empty<string>();
            switch (node.Kind)
            {
                case YamlKind.Scalar: return new[] { node.Text ?? "" };
                case YamlKind.Sequence:
                    return node.Items.Select(item => item.Kind == YamlKind.Scalar && item.Text != null
                        ? item.Text
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
            if (node.Kind != YamlKind.Mapping)
                throw Invalid(Path, node, $"'{key}' must be a mapping (NAME: value).");
            foreach (var pair in node.Pairs)
            {
                if (pair.Key.Kind != YamlKind.Scalar || string.IsNullOrEmpty(pair.Key.Text))
                    throw Invalid(Path, pair.Key, $"Keys under '{key}' must be plain names.");
                if (pair.Value.Kind != YamlKind.Scalar)
                    throw Invalid(Path, pair.Value, $"'{key}.{pair.Key.Text}' must be a single value.");
                result[pair.Key.Text!] = pair.Value.Text ?? "";
            }
            return result;
        }

        /// <summary>A plain .NET shape of a node (string, list, dictionary), for template variables.</summary>
        public static object? ToPlain(YamlValue node)
        {
            switch (node.Kind)
            {
                case YamlKind.Scalar:
                    if (node.IsNull) return null;
                    if (node.IsPlain)
                    {
                        if (node.Text == "true" || node.Text == "True") return true;
                        if (node.Text == "false" || node.Text == "False") return false;
                        if (long.TryParse(node.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return n;
                    }
                    return node.Text;
                case YamlKind.Sequence:
                    return node.Items.Select(ToPlain).ToList();
                default:
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var pair in node.Pairs)
                        map[pair.Key.Text ?? ""] = ToPlain(pair.Value);
                    return map;
            }
        }

        public static ImageToolsException Invalid(string path, YamlValue node, string message) =>
            new ImageToolsException("InvalidSetting", FaultKind.InvalidData, message, path, node.Line);
    }
}
