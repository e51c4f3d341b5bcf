using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ImageTools.Formats.Templates
{
    /// <summary>
    /// Renders docker-pkg's <c>Dockerfile.template</c>: a Jinja2 subset with StrictUndefined
    /// semantics — <c>{{ expr | filter }}</c>, <c>{% if/elif/else %}</c>, <c>{% for %}</c>,
    /// <c>{% set %}</c>, <c>{# #}</c> and whitespace control. Anything else is an error naming
    /// file and line rather than a silently different Dockerfile.
    /// </summary>
    internal sealed class TemplateRenderer
    {
        private readonly IReadOnlyDictionary<string, object?> _variables;
        private readonly Func<string, string?> _resolveImageTag;

        public TemplateRenderer(IReadOnlyDictionary<string, object?> variables, Func<string, string?> resolveImageTag)
        {
            _variables = variables;
            _resolveImageTag = resolveImageTag;
        }

        /// <summary>Renders <paramref name="templateText"/>; <c>{% include %}</c> names files relative to <paramref name="filePath"/>'s directory.</summary>
        public string Render(string templateText, string filePath)
        {
            var body = Parse(templateText, filePath);
            var scope = new Scope(_variables);
            var output = new StringBuilder();
            var context = new RenderContext(filePath, _variables, _resolveImageTag);
            foreach (var node in body) node.Render(output, scope, context);
            return output.ToString();
        }

        /// <summary>A template's text as nodes, as Jinja loads every template (the Dockerfile.template and what it includes).</summary>
        internal static List<TemplateNode> Parse(string templateText, string filePath)
        {
            var text = templateText.Replace("\r\n", "\n");
            // Jinja's keep_trailing_newline is off (docker-pkg does not turn it on): one final newline is dropped.
            if (text.EndsWith("\n", StringComparison.Ordinal)) text = text.Substring(0, text.Length - 1);
            var tokens = TemplateLexer.Tokenize(text, filePath);
            var position = 0;
            return TemplateParser.ParseBlock(tokens, ref position, filePath, terminators: Array.Empty<string>());
        }
    }

    internal sealed class RenderContext
    {
        public RenderContext(string filePath, IReadOnlyDictionary<string, object?> config, Func<string, string?> resolveImageTag)
            : this(filePath, config, resolveImageTag, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(filePath)) ?? ".", 0)
        {
        }

        private RenderContext(string filePath, IReadOnlyDictionary<string, object?> config, Func<string, string?> resolveImageTag, string root, int depth)
        {
            FilePath = filePath;
            Config = config;
            ResolveImageTag = resolveImageTag;
            Root = root;
            IncludeDepth = depth;
        }

        public string FilePath { get; }
        /// <summary>Where <c>{% include %}</c> names are looked up: the top template's directory (docker-pkg's FileSystemLoader of the image directory).</summary>
        public string Root { get; }
        public int IncludeDepth { get; }

        /// <summary>The context an included template renders in: its own file for errors, the same root and variables.</summary>
        public RenderContext ForInclude(string filePath) => new RenderContext(filePath, Config, ResolveImageTag, Root, IncludeDepth + 1);
        public IReadOnlyDictionary<string, object?> Config { get; }
        public Func<string, string?> ResolveImageTag { get; }

        public ImageToolsException Error(string errorId, int line, string message) =>
            new ImageToolsException(errorId, FaultKind.InvalidData, message, FilePath, line);
    }

    /// <summary>Variables visible while rendering: the config, shadowed by {% set %} and loop variables.</summary>
    internal sealed class Scope
    {
        private readonly IReadOnlyDictionary<string, object?> _globals;
        private readonly Scope? _parent;
        private readonly Dictionary<string, object?> _locals = new Dictionary<string, object?>(StringComparer.Ordinal);

        public Scope(IReadOnlyDictionary<string, object?> globals, Scope? parent = null)
        {
            _globals = globals;
            _parent = parent;
        }

        public void Set(string name, object? value) => _locals[name] = value;

        public bool TryGet(string name, out object? value)
        {
            if (_locals.TryGetValue(name, out value)) return true;
            if (_parent != null) return _parent.TryGet(name, out value);
            if (!_globals.TryGetValue(name, out value)) return false;
            // The config's lists and mappings are shared by every image's render (in parallel): a template
            // that changes one ({% do list.append(x) %}) changes its own copy, made on first use.
            if (value is IList || value is IDictionary<string, object?>) _locals[name] = value = Copy(value);
            return true;
        }

        private static object? Copy(object? value) => value switch
        {
            IDictionary<string, object?> map => map.ToDictionary(pair => pair.Key, pair => Copy(pair.Value), StringComparer.Ordinal),
            IList list => list.Cast<object?>().Select(Copy).ToList(),
            _ => value,
        };
    }

    /// <summary>Jinja's Undefined, seen only by the default filter; everything else fails on it (StrictUndefined).</summary>
    internal sealed class Undefined
    {
        public static readonly Undefined Value = new Undefined();
        private Undefined() { }
    }

    internal static class Truth
    {
        public static bool Of(object? value) => value switch
        {
            null => false,
            Undefined _ => false,
            bool b => b,
            string s => s.Length > 0,
            long l => l != 0,
            int i => i != 0,
            double d => d != 0,
            ICollection c => c.Count > 0,
            _ => true,
        };

        /// <summary>
        /// What Jinja prints: None, True/False, floats with a decimal point, lists and mappings as
        /// Python's repr. Kept for compatibility with docker-pkg's output.
        /// </summary>
        public static string Text(object? value) => value switch
        {
            null => "None",
            Undefined _ => "",
            string s => s,
            bool b => b ? "True" : "False",
            double d => FloatText(d),
            float f => FloatText(f),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            IDictionary<string, object?> map => "{" + string.Join(", ", map.Select(p => Repr(p.Key) + ": " + Repr(p.Value))) + "}",
            IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Repr)) + "]",
            _ => value.ToString() ?? "",
        };

        private static string Repr(object? value) => value is string s
            ? (s.Contains("'") && !s.Contains("\"") ? "\"" + s + "\"" : "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'")
            : Text(value);

        private static string FloatText(double value)
        {
            var text = value.ToString("R", CultureInfo.InvariantCulture);
            return text.IndexOfAny(new[] { '.', 'E', 'N', 'I' }) < 0 ? text + ".0" : text;
        }

        public static new bool Equals(object? a, object? b)
        {
            if (a == null || b == null) return a == null && b == null;
            if (IsNumber(a) && IsNumber(b)) return Convert.ToDouble(a, CultureInfo.InvariantCulture) == Convert.ToDouble(b, CultureInfo.InvariantCulture);
            return Text(a) == Text(b) && a.GetType() == b.GetType();
        }

        private static bool IsNumber(object value) => value is long || value is int || value is double;
    }
}
