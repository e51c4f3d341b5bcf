using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Templates
{
    internal abstract class TemplateNode
    {
        public abstract void Render(StringBuilder output, Scope scope, RenderContext context);
    }

    internal sealed class TextNode : TemplateNode
    {
        private readonly string _text;
        public TextNode(string text) => _text = text;
        public override void Render(StringBuilder output, Scope scope, RenderContext context) => output.Append(_text);
    }

    internal sealed class OutputNode : TemplateNode
    {
        private readonly Expression _expression;
        public OutputNode(Expression expression) => _expression = expression;
        public override void Render(StringBuilder output, Scope scope, RenderContext context) =>
            output.Append(Truth.Text(_expression.Evaluate(scope, context)));
    }

    internal sealed class IfNode : TemplateNode
    {
        private readonly List<(Expression? Condition, List<TemplateNode> Body)> _branches;
        public IfNode(List<(Expression?, List<TemplateNode>)> branches) => _branches = branches;

        public override void Render(StringBuilder output, Scope scope, RenderContext context)
        {
            foreach (var (condition, body) in _branches)
            {
                if (condition != null && !Truth.Of(condition.Evaluate(scope, context))) continue;
                foreach (var node in body) node.Render(output, scope, context);
                return;
            }
        }
    }

    internal sealed class ForNode : TemplateNode
    {
        private readonly string _variable;
        private readonly Expression _items;
        private readonly List<TemplateNode> _body;
        private readonly int _line;

        public ForNode(string variable, Expression items, List<TemplateNode> body, int line)
        {
            _variable = variable;
            _items = items;
            _body = body;
            _line = line;
        }

        public override void Render(StringBuilder output, Scope scope, RenderContext context)
        {
            var items = _items.Evaluate(scope, context);
            IEnumerable sequence = items switch
            {
                string s => s.Select(c => (object)c.ToString()),
                IDictionary d => d.Keys,
                IEnumerable e => e,
                _ => throw context.Error("TemplateTypeError", _line, $"{{% for %}} needs a list to loop over, got '{Truth.Text(items)}'."),
            };
            foreach (var item in sequence)
            {
                var inner = new Scope(new Dictionary<string, object?>(), scope);
                inner.Set(_variable, item);
                foreach (var node in _body) node.Render(output, inner, context);
            }
        }
    }

    internal sealed class SetNode : TemplateNode
    {
        private readonly string _name;
        private readonly Expression _value;

        public SetNode(string name, Expression value)
        {
            _name = name;
            _value = value;
        }

        public override void Render(StringBuilder output, Scope scope, RenderContext context) => scope.Set(_name, _value.Evaluate(scope, context));
    }

    /// <summary><c>{% do expression %}</c> (jinja2.ext.do): evaluated for its effect, writes nothing.</summary>
    internal sealed class DoNode : TemplateNode
    {
        private readonly Expression _expression;

        public DoNode(Expression expression) => _expression = expression;

        public override void Render(StringBuilder output, Scope scope, RenderContext context) => _expression.Evaluate(scope, context);
    }

    /// <summary>
    /// A <c>{% macro name(a, b='x') %}…{% endmacro %}</c> as Jinja defines one: called like a function, it
    /// renders its body with its arguments (missing ones take their defaults) over the scope it was defined in.
    /// </summary>
    internal sealed class Macro
    {
        private readonly string _name;
        private readonly IReadOnlyList<(string Name, Expression? Default)> _parameters;
        private readonly List<TemplateNode> _body;
        private readonly Scope _definedIn;

        public Macro(string name, IReadOnlyList<(string Name, Expression? Default)> parameters, List<TemplateNode> body, Scope definedIn)
        {
            _name = name;
            _parameters = parameters;
            _body = body;
            _definedIn = definedIn;
        }

        public string Call(IReadOnlyList<object?> arguments, RenderContext context, int line)
        {
            if (arguments.Count > _parameters.Count)
                throw context.Error("TemplateTypeError", line, $"The macro '{_name}' takes {_parameters.Count} argument(s), not {arguments.Count}.");
            var inner = new Scope(new Dictionary<string, object?>(), _definedIn);
            for (var i = 0; i < _parameters.Count; i++)
            {
                var (name, fallback) = _parameters[i];
                inner.Set(name, i < arguments.Count ? arguments[i]
                    : fallback?.Evaluate(_definedIn, context) ?? throw context.Error("TemplateTypeError", line, $"The macro '{_name}' needs its argument '{name}'."));
            }
            var output = new StringBuilder();
            foreach (var node in _body) node.Render(output, inner, context);
            return output.ToString();
        }
    }

    internal sealed class MacroNode : TemplateNode
    {
        private readonly string _name;
        private readonly IReadOnlyList<(string Name, Expression? Default)> _parameters;
        private readonly List<TemplateNode> _body;

        public MacroNode(string name, IReadOnlyList<(string Name, Expression? Default)> parameters, List<TemplateNode> body)
        {
            _name = name;
            _parameters = parameters;
            _body = body;
        }

        public override void Render(StringBuilder output, Scope scope, RenderContext context) => scope.Set(_name, new Macro(_name, _parameters, _body, scope));
    }

    /// <summary>
    /// <c>{% include 'name' [ignore missing] [with context|without context] %}</c> as docker-pkg's Jinja environment runs it: its
    /// FileSystemLoader is the image directory, so the name is a '/'-separated path below it ('..' is refused, as Jinja's
    /// loader refuses it), and the included template renders with the variables of the place it is included at.
    /// </summary>
    internal sealed class IncludeNode : TemplateNode
    {
        private const int MaxDepth = 20;
        private readonly Expression _name;
        private readonly bool _ignoreMissing;
        private readonly bool _withContext;
        private readonly int _line;

        public IncludeNode(Expression name, bool ignoreMissing, bool withContext, int line)
        {
            _name = name;
            _ignoreMissing = ignoreMissing;
            _withContext = withContext;
            _line = line;
        }

        public override void Render(StringBuilder output, Scope scope, RenderContext context)
        {
            var name = Truth.Text(_name.Evaluate(scope, context));
            var parts = name.Split('/');
            if (name.Length == 0 || parts.Any(p => p == "..") || System.IO.Path.IsPathRooted(name) || name.IndexOf('\\') >= 0)
                throw context.Error("TemplateIncludeInvalid", _line,
                    $"{{% include '{name}' %}}: name a file below the image directory with '/' between folders, without '..' (docker-pkg's loader is the image directory).");
            if (context.IncludeDepth >= MaxDepth)
                throw context.Error("TemplateIncludeInvalid", _line, $"{{% include '{name}' %}} nests more than {MaxDepth} deep: a template includes itself.");
            var path = System.IO.Path.Combine(new[] { context.Root }.Concat(parts.Where(p => p.Length > 0 && p != ".")).ToArray());
            string text;
            try { text = System.IO.File.ReadAllText(path); }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException)
            {
                if (_ignoreMissing && (e is System.IO.FileNotFoundException || e is System.IO.DirectoryNotFoundException)) return;
                throw context.Error("TemplateIncludeNotFound", _line,
                    $"{{% include '{name}' %}}: {path} cannot be read ({e.Message}). Put the file in the image directory, or write 'ignore missing'.");
            }
            var included = context.ForInclude(path);
            var body = TemplateRenderer.Parse(text, path);
            // Jinja: without context the included template sees only the environment's globals, not the variables render() got (the config).
            var inner = _withContext ? new Scope(new Dictionary<string, object?>(), scope) : new Scope(new Dictionary<string, object?>());
            foreach (var node in body) node.Render(output, inner, included);
        }
    }

    /// <summary>Builds the node tree from tokens; block statements nest until their end tag.</summary>
    internal static class TemplateParser
    {
        private static readonly Regex ForPattern = new Regex(@"^for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.+)$", RegexOptions.CultureInvariant);
        private static readonly Regex MacroPattern = new Regex(@"^macro\s+([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        private static readonly Regex ParameterPattern = new Regex(@"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*(.+?))?\s*$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        private static readonly Regex IncludePattern = new Regex(@"^include\s+(.+?)(\s+ignore\s+missing)?(?:\s+(with|without)\s+context)?$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        private static readonly Regex SetPattern = new Regex(@"^set\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$", RegexOptions.CultureInvariant);

        public static List<TemplateNode> ParseBlock(List<TemplateToken> tokens, ref int position, string filePath, string[] terminators, int openedAt = 1)
        {
            var nodes = new List<TemplateNode>();
            while (position < tokens.Count)
            {
                var token = tokens[position];
                switch (token.Kind)
                {
                    case TokenKind.Text:
                        nodes.Add(new TextNode(token.Content));
                        position++;
                        break;
                    case TokenKind.Output:
                        nodes.Add(new OutputNode(ExpressionParser.Parse(token.Content, token.Line, filePath)));
                        position++;
                        break;
                    default:
                        var keyword = FirstWord(token.Content);
                        if (terminators.Contains(keyword)) return nodes;
                        nodes.Add(ParseStatement(tokens, ref position, filePath));
                        break;
                }
            }
            if (terminators.Length > 0)
                throw new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData,
                    $"This block is never closed: add {{% {terminators.Last()} %}} after its body.", filePath, openedAt);
            return nodes;
        }

        private static TemplateNode ParseStatement(List<TemplateToken> tokens, ref int position, string filePath)
        {
            var token = tokens[position];
            var keyword = FirstWord(token.Content);
            position++;
            switch (keyword)
            {
                case "if":
                {
                    var branches = new List<(Expression?, List<TemplateNode>)>();
                    Expression? condition = ExpressionParser.Parse(token.Content.Substring(2).Trim(), token.Line, filePath);
                    while (true)
                    {
                        var body = ParseBlock(tokens, ref position, filePath, new[] { "elif", "else", "endif" }, token.Line);
                        branches.Add((condition, body));
                        var end = tokens[position];
                        position++;
                        var word = FirstWord(end.Content);
                        if (word == "endif") break;
                        if (condition == null)
                            throw new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData,
                                $"'{{% {word} %}}' after '{{% else %}}'; close the if with {{% endif %}}.", filePath, end.Line);
                        condition = word == "elif" ? ExpressionParser.Parse(end.Content.Substring(4).Trim(), end.Line, filePath) : null;
                    }
                    return new IfNode(branches);
                }
                case "for":
                {
                    var match = ForPattern.Match(token.Content);
                    if (!match.Success) throw Unsupported(filePath, token.Line, "Write loops as {% for name in list %}.");
                    var items = ExpressionParser.Parse(match.Groups[2].Value, token.Line, filePath);
                    var body = ParseBlock(tokens, ref position, filePath, new[] { "endfor" }, token.Line);
                    position++;
                    return new ForNode(match.Groups[1].Value, items, body, token.Line);
                }
                case "set":
                {
                    var match = SetPattern.Match(token.Content);
                    if (!match.Success) throw Unsupported(filePath, token.Line, "Write assignments as {% set name = value %}.");
                    return new SetNode(match.Groups[1].Value, ExpressionParser.Parse(match.Groups[2].Value, token.Line, filePath));
                }
                case "macro":
                {
                    var match = MacroPattern.Match(token.Content.Trim());
                    if (!match.Success) throw Unsupported(filePath, token.Line, "Write macros as {% macro name(a, b='default') %}.");
                    var parameters = new List<(string, Expression?)>();
                    // A default holding a ',' (a list, a string) is not split here: defaults are plain values.
                    foreach (var part in match.Groups[2].Value.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
                    {
                        var parameter = ParameterPattern.Match(part);
                        if (!parameter.Success) throw Unsupported(filePath, token.Line, $"'{part.Trim()}' is not a macro parameter; write name or name=value.");
                        parameters.Add((parameter.Groups[1].Value,
                            parameter.Groups[2].Success ? ExpressionParser.Parse(parameter.Groups[2].Value, token.Line, filePath) : null));
                    }
                    var body = ParseBlock(tokens, ref position, filePath, new[] { "endmacro" }, token.Line);
                    position++;
                    return new MacroNode(match.Groups[1].Value, parameters, body);
                }
                case "do":
                    return new DoNode(ExpressionParser.Parse(token.Content.Substring(2).Trim(), token.Line, filePath));
                case "include":
                {
                    var match = IncludePattern.Match(token.Content.Trim());
                    if (!match.Success) throw Unsupported(filePath, token.Line, "Write includes as {% include 'file' %} (optionally 'ignore missing', 'with context' or 'without context').");
                    return new IncludeNode(ExpressionParser.Parse(match.Groups[1].Value, token.Line, filePath), match.Groups[2].Success,
                        match.Groups[3].Value != "without", token.Line);
                }
                case "elif":
                case "else":
                case "endif":
                case "endfor":
                    throw new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData,
                        $"'{{% {keyword} %}}' has no matching '{{% {(keyword == "endfor" ? "for" : "if")} %}}' before it. Remove it or add the opening tag.",
                        filePath, token.Line);
                default:
                    throw Unsupported(filePath, token.Line,
                        $"'{{% {keyword} %}}' is not supported here (supported: if, elif, else, endif, for, endfor, set, do, macro, endmacro, include). " +
                        "Rewrite the template with those, or use a plain Dockerfile.");
            }
        }

        private static string FirstWord(string content)
        {
            var end = 0;
            while (end < content.Length && (char.IsLetter(content[end]) || content[end] == '_')) end++;
            return content.Substring(0, end);
        }

        private static ImageToolsException Unsupported(string filePath, int line, string message) =>
            new ImageToolsException("TemplateUnsupportedSyntax", FaultKind.InvalidData, message, filePath, line);
    }
}
