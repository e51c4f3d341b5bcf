using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ImageTools.Formats.Templates
{
    internal abstract class Expression
    {
        protected Expression(int line) => Line = line;
        public int Line { get; }
        public abstract object? Evaluate(Scope scope, RenderContext context);
    }

    internal sealed class Literal : Expression
    {
        private readonly object? _value;
        public Literal(object? value, int line) : base(line) => _value = value;
        public override object? Evaluate(Scope scope, RenderContext context) => _value;
    }

    internal sealed class ListLiteral : Expression
    {
        private readonly List<Expression> _items;
        public ListLiteral(List<Expression> items, int line) : base(line) => _items = items;
        public override object? Evaluate(Scope scope, RenderContext context) => _items.Select(i => i.Evaluate(scope, context)).ToList();
    }

    internal sealed class Variable : Expression
    {
        private readonly string _name;
        public Variable(string name, int line) : base(line) => _name = name;

        public override object? Evaluate(Scope scope, RenderContext context)
        {
            if (scope.TryGet(_name, out var value)) return value;
            throw context.Error("TemplateUnknownVariable", Line,
                $"The template uses '{_name}', which is not defined. Define it in imagetools.yaml (or docker-pkg's config.yaml), or fix the name.");
        }
    }

    internal sealed class Attribute : Expression
    {
        private readonly Expression _target;
        private readonly Expression _key;
        private readonly string _text;

        public Attribute(Expression target, Expression key, string text, int line) : base(line)
        {
            _target = target;
            _key = key;
            _text = text;
        }

        public override object? Evaluate(Scope scope, RenderContext context)
        {
            var target = _target.Evaluate(scope, context);
            var key = _key.Evaluate(scope, context);
            if (target is IDictionary<string, object?> map && key != null && map.TryGetValue(Truth.Text(key), out var value)) return value;
            if (target is IList list && key is long index && index >= 0 && index < list.Count) return list[(int)index];
            throw context.Error("TemplateUnknownVariable", Line, $"'{_text}' is not defined. Define it in imagetools.yaml, or fix the name.");
        }
    }

    /// <summary>
    /// The methods docker-pkg templates call inside <c>{% do %}</c> (jinja2.ext.do, which docker-pkg enables):
    /// a list's <c>append</c> and <c>extend</c>, a mapping's <c>update</c>. They change the value in place and return none.
    /// </summary>
    internal sealed class MethodCall : Expression
    {
        public static readonly IReadOnlyCollection<string> Supported = new[] { "append", "extend", "update" };
        private readonly Expression _target;
        private readonly string _name;
        private readonly List<Expression> _arguments;
        private readonly string _text;

        public MethodCall(Expression target, string name, List<Expression> arguments, string text, int line) : base(line)
        {
            _target = target;
            _name = name;
            _arguments = arguments;
            _text = text;
        }

        public override object? Evaluate(Scope scope, RenderContext context)
        {
            var target = _target.Evaluate(scope, context);
            var arguments = _arguments.Select(a => a.Evaluate(scope, context)).ToList();
            switch (_name)
            {
                case "append" when target is IList list && !list.IsReadOnly && arguments.Count == 1:
                    list.Add(arguments[0]);
                    return null;
                case "extend" when target is IList list && !list.IsReadOnly && arguments.Count == 1 && arguments[0] is IEnumerable items && !(arguments[0] is string):
                    foreach (var item in items.Cast<object?>().ToList()) list.Add(item);
                    return null;
                case "update" when target is IDictionary<string, object?> map && !map.IsReadOnly && arguments.Count == 1 && arguments[0] is IDictionary<string, object?> more:
                    foreach (var pair in more.ToList()) map[pair.Key] = pair.Value;
                    return null;
                default:
                    throw context.Error("TemplateUnsupportedSyntax", Line,
                        $"'{_text}' cannot be called: only a list's append(item) and extend(list) and a mapping's update(mapping) can.");
            }
        }
    }

    /// <summary><c>name(a, b)</c>: a call of a macro the template defined; it gives the macro's rendered text.</summary>
    internal sealed class MacroCall : Expression
    {
        private readonly string _name;
        private readonly List<Expression> _arguments;

        public MacroCall(string name, List<Expression> arguments, int line) : base(line)
        {
            _name = name;
            _arguments = arguments;
        }

        public override object? Evaluate(Scope scope, RenderContext context)
        {
            if (!scope.TryGet(_name, out var value) || !(value is Macro macro))
                throw context.Error("TemplateUnknownVariable", Line,
                    $"'{_name}(…)' calls no macro: define it first with {{% macro {_name}(…) %}}, or fix the name.");
            return macro.Call(_arguments.Select(a => a.Evaluate(scope, context)).ToList(), context, Line);
        }
    }

    internal sealed class Unary : Expression
    {
        private readonly Expression _operand;
        public Unary(Expression operand, int line) : base(line) => _operand = operand;
        public override object? Evaluate(Scope scope, RenderContext context) => !Truth.Of(_operand.Evaluate(scope, context));
    }

    internal sealed class Binary : Expression
    {
        private readonly string _operator;
        private readonly Expression _left;
        private readonly Expression _right;

        public Binary(string op, Expression left, Expression right, int line) : base(line)
        {
            _operator = op;
            _left = left;
            _right = right;
        }

        public override object? Evaluate(Scope scope, RenderContext context)
        {
            switch (_operator)
            {
                case "and": { var left = _left.Evaluate(scope, context); return Truth.Of(left) ? _right.Evaluate(scope, context) : left; }
                case "or": { var left = _left.Evaluate(scope, context); return Truth.Of(left) ? left : _right.Evaluate(scope, context); }
                case "==": return Truth.Equals(_left.Evaluate(scope, context), _right.Evaluate(scope, context));
                case "!=": return !Truth.Equals(_left.Evaluate(scope, context), _right.Evaluate(scope, context));
                case "~": return Truth.Text(_left.Evaluate(scope, context)) + Truth.Text(_right.Evaluate(scope, context));
                case "in":
                {
                    var needle = _left.Evaluate(scope, context);
                    return _right.Evaluate(scope, context) switch
                    {
                        string s => s.Contains(Truth.Text(needle)),
                        IDictionary<string, object?> d => d.ContainsKey(Truth.Text(needle)),
                        IEnumerable e => e.Cast<object?>().Any(item => Truth.Equals(item, needle)),
                        _ => false,
                    };
                }
                default: throw new InvalidOperationException(_operator);
            }
        }
    }

    internal sealed class FilterCall : Expression
    {
        private readonly Expression _input;
        private readonly string _name;
        private readonly List<Expression> _arguments;

        public FilterCall(Expression input, string name, List<Expression> arguments, int line) : base(line)
        {
            _input = input;
            _name = name;
            _arguments = arguments;
        }

        public override object? Evaluate(Scope scope, RenderContext context)
        {
            var filter = TemplateFilters.All[_name];
            // default() must see an undefined input without failing, as Jinja's does.
            object? input;
            try { input = _input.Evaluate(scope, context); }
            catch (ImageToolsException e) when (_name == "default" && e.ErrorId == "TemplateUnknownVariable") { input = Undefined.Value; }
            var arguments = _arguments.Select(a => a.Evaluate(scope, context)).ToList();
            return filter(input, arguments, context, Line);
        }
    }

    /// <summary>A recursive-descent parser for the expression language inside {{ }} and {% %}.</summary>
    internal sealed class ExpressionParser
    {
        private readonly string _text;
        private readonly int _line;
        private readonly string _filePath;
        private int _position;

        private ExpressionParser(string text, int line, string filePath)
        {
            _text = text;
            _line = line;
            _filePath = filePath;
        }

        public static Expression Parse(string text, int line, string filePath)
        {
            var parser = new ExpressionParser(text, line, filePath);
            if (text.Trim().Length == 0) throw parser.Error("The tag is empty; put an expression in it.");
            var expression = parser.ParseOr();
            parser.SkipSpace();
            if (parser._position < text.Length) throw parser.Unsupported(text.Substring(parser._position));
            return expression;
        }

        private Expression ParseOr()
        {
            var left = ParseAnd();
            while (TryKeyword("or")) left = new Binary("or", left, ParseAnd(), _line);
            return left;
        }

        private Expression ParseAnd()
        {
            var left = ParseNot();
            while (TryKeyword("and")) left = new Binary("and", left, ParseNot(), _line);
            return left;
        }

        private Expression ParseNot() => TryKeyword("not") ? new Unary(ParseNot(), _line) : ParseComparison();

        private Expression ParseComparison()
        {
            var left = ParseConcat();
            if (TrySymbol("==")) return new Binary("==", left, ParseConcat(), _line);
            if (TrySymbol("!=")) return new Binary("!=", left, ParseConcat(), _line);
            if (TryKeyword("not"))
            {
                if (!TryKeyword("in")) throw Error("Expected 'in' after 'not'.");
                return new Unary(new Binary("in", left, ParseConcat(), _line), _line);
            }
            if (TryKeyword("in")) return new Binary("in", left, ParseConcat(), _line);
            return left;
        }

        private Expression ParseConcat()
        {
            var left = ParseFiltered();
            while (TrySymbol("~")) left = new Binary("~", left, ParseFiltered(), _line);
            return left;
        }

        private Expression ParseFiltered()
        {
            var expression = ParsePostfix();
            while (TrySymbol("|"))
            {
                var name = ReadName() ?? throw Error("Expected a filter name after '|'.");
                // Jinja resolves filters when it compiles the template, so an unknown one fails even in a branch not taken.
                if (!TemplateFilters.All.ContainsKey(name))
                    throw new ImageToolsException("TemplateUnknownFilter", FaultKind.InvalidData,
                        $"Unknown filter '{name}'. Known filters: {string.Join(", ", TemplateFilters.All.Keys.OrderBy(k => k, StringComparer.Ordinal))}.",
                        _filePath, _line);
                var arguments = TrySymbol("(") ? ParseArguments() : new List<Expression>();
                var most = TemplateFilters.MaxArguments(name);
                if (arguments.Count > most)
                    throw Error(most == 0
                        ? $"The filter '{name}' takes no arguments; write '| {name}'."
                        : $"The filter '{name}' takes at most {most} argument(s), not {arguments.Count}.");
                expression = new FilterCall(expression, name, arguments, _line);
            }
            return expression;
        }

        private Expression ParsePostfix()
        {
            var start = _position;
            var expression = ParsePrimary();
            while (true)
            {
                if (TrySymbol("."))
                {
                    var name = ReadName() ?? throw Error("Expected a name after '.'.");
                    // Other calls (.items(), .pop()) are left to the check for what the language lacks.
                    if (MethodCall.Supported.Contains(name) && TrySymbol("("))
                        expression = new MethodCall(expression, name, ParseArguments(), Slice(start), _line);
                    else expression = new Attribute(expression, new Literal(name, _line), Slice(start), _line);
                }
                else if (TrySymbol("["))
                {
                    var key = ParseOr();
                    Expect("]");
                    expression = new Attribute(expression, key, Slice(start), _line);
                }
                else return expression;
            }
        }

        private Expression ParsePrimary()
        {
            SkipSpace();
            if (_position >= _text.Length) throw Error($"'{_text}' ends where a value was expected.");
            var c = _text[_position];
            if (c == '"' || c == '\'') return new Literal(ReadString(c), _line);
            if (char.IsDigit(c) || (c == '-' && _position + 1 < _text.Length && char.IsDigit(_text[_position + 1]))) return new Literal(ReadNumber(), _line);
            if (TrySymbol("("))
            {
                var inner = ParseOr();
                Expect(")");
                return inner;
            }
            if (TrySymbol("["))
            {
                var items = new List<Expression>();
                if (!TrySymbol("]"))
                {
                    do items.Add(ParseOr()); while (TrySymbol(","));
                    Expect("]");
                }
                return new ListLiteral(items, _line);
            }
            var name = ReadName() ?? throw Unsupported(_text.Substring(_position));
            switch (name)
            {
                case "true": case "True": return new Literal(true, _line);
                case "false": case "False": return new Literal(false, _line);
                case "none": case "None": return new Literal(null, _line);
                default:
                    return TrySymbol("(") ? new MacroCall(name, ParseArguments(), _line) : (Expression)new Variable(name, _line);
            }
        }

        /// <summary>The arguments of a call whose '(' was just read, up to and with its ')': filters, methods and macros alike.</summary>
        private List<Expression> ParseArguments()
        {
            var arguments = new List<Expression>();
            if (TrySymbol(")")) return arguments;
            do arguments.Add(ParseOr()); while (TrySymbol(","));
            Expect(")");
            return arguments;
        }

        private string ReadString(char quote)
        {
            var text = new StringBuilder();
            _position++;
            while (_position < _text.Length && _text[_position] != quote)
            {
                if (_text[_position] == '\\' && _position + 1 < _text.Length)
                {
                    _position++;
                    text.Append(_text[_position] switch { 'n' => '\n', 't' => '\t', var other => other });
                }
                else text.Append(_text[_position]);
                _position++;
            }
            if (_position >= _text.Length) throw Error($"Unterminated string in '{_text}'. Close the quote.");
            _position++;
            return text.ToString();
        }

        private object ReadNumber()
        {
            var start = _position;
            if (_text[_position] == '-') _position++;
            while (_position < _text.Length && (char.IsDigit(_text[_position]) || _text[_position] == '.')) _position++;
            var token = _text.Substring(start, _position - start);
            if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)) return whole;
            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var real)) return real;
            throw Error($"'{token}' is not a number.");
        }

        private string? ReadName()
        {
            SkipSpace();
            var start = _position;
            while (_position < _text.Length && (char.IsLetterOrDigit(_text[_position]) || _text[_position] == '_'))
            {
                if (_position == start && char.IsDigit(_text[_position])) break;
                _position++;
            }
            return _position > start ? _text.Substring(start, _position - start) : null;
        }

        private bool TryKeyword(string keyword)
        {
            SkipSpace();
            var end = _position + keyword.Length;
            if (end > _text.Length || string.CompareOrdinal(_text, _position, keyword, 0, keyword.Length) != 0) return false;
            if (end < _text.Length && (char.IsLetterOrDigit(_text[end]) || _text[end] == '_')) return false;
            _position = end;
            return true;
        }

        private bool TrySymbol(string symbol)
        {
            SkipSpace();
            if (string.CompareOrdinal(_text, _position, symbol, 0, symbol.Length) != 0) return false;
            // '|' must not swallow '||', '=' must not be half of '=='.
            _position += symbol.Length;
            return true;
        }

        private void Expect(string symbol)
        {
            if (!TrySymbol(symbol)) throw Error($"Expected '{symbol}' in '{_text}'.");
        }

        private void SkipSpace()
        {
            while (_position < _text.Length && char.IsWhiteSpace(_text[_position])) _position++;
        }

        private string Slice(int start) => _text.Substring(start, _position - start).Trim();

        /// <summary>Valid Jinja or not, it is outside the subset: say what is supported instead of guessing.</summary>
        private ImageToolsException Unsupported(string rest) =>
            new ImageToolsException("TemplateUnsupportedSyntax", FaultKind.InvalidData,
                $"'{rest.Trim()}' in '{_text.Trim()}' is not part of the template language ImageTools renders. Expressions may use " +
                "strings, numbers, variables, a.b and a['b'], lists, | filters, ~, ==, !=, in, not, and, or and parentheses; " +
                "rewrite the expression with those, or use a plain Dockerfile.", _filePath, _line);

        private ImageToolsException Error(string message) =>
            new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData, message, _filePath, _line);
    }
}
