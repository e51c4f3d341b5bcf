using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ImageTools.Json
{
    /// <summary>A strict recursive-descent reader for RFC 8259 JSON.</summary>
    internal sealed class JsonParser
    {
        // Registries and docker config files nest a handful of levels; the cap keeps hostile input from
        // exhausting the stack.
        private const int MaxDepth = 128;

        private readonly string _text;
        private int _position;
        private int _depth;

        public JsonParser(string text) => _text = text;

        public JsonValue ParseDocument()
        {
            SkipWhitespace();
            if (_position >= _text.Length) throw Fail("the text is empty, not JSON");
            var value = ParseValue();
            SkipWhitespace();
            if (_position < _text.Length) throw Fail($"unexpected '{Describe(_text[_position])}' after the JSON value");
            return value;
        }

        private JsonValue ParseValue()
        {
            if (_position >= _text.Length) throw Fail("the JSON text ends too early");
            var c = _text[_position];
            switch (c)
            {
                case '{': return ParseObject();
                case '[': return ParseArray();
                case '"': return JsonValue.String(ParseString());
                case 't': Expect("true"); return JsonValue.True;
                case 'f': Expect("false"); return JsonValue.False;
                case 'n': Expect("null"); return JsonValue.Null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
                    throw Fail($"unexpected '{Describe(c)}' where a JSON value should start");
            }
        }

        private JsonValue ParseObject()
        {
            Enter();
            _position++;
            var members = new List<KeyValuePair<string, JsonValue>>();
            var names = new HashSet<string>(System.StringComparer.Ordinal);
            SkipWhitespace();
            if (Peek() == '}') { _position++; _depth--; return JsonValue.RawObject(members); }
            while (true)
            {
                SkipWhitespace();
                if (Peek() != '"') throw Fail("expected a member name in double quotes");
                var namePosition = _position;
                var name = ParseString();
                // Go's decoder keeps the last of repeated names, others the first: refusing them keeps
                // a manifest from meaning different things to different readers.
                if (!names.Add(name)) { _position = namePosition; throw Fail($"the member name '{name}' is repeated"); }
                SkipWhitespace();
                if (Peek() != ':') throw Fail("expected ':' after a member name");
                _position++;
                SkipWhitespace();
                members.Add(new KeyValuePair<string, JsonValue>(name, ParseValue()));
                SkipWhitespace();
                var next = Peek();
                _position++;
                if (next == ',') continue;
                if (next == '}') break;
                _position--;
                throw Fail("expected ',' or '}' in an object");
            }
            _depth--;
            return JsonValue.RawObject(members);
        }

        private JsonValue ParseArray()
        {
            Enter();
            _position++;
            var items = new List<JsonValue>();
            SkipWhitespace();
            if (Peek() == ']') { _position++; _depth--; return JsonValue.RawArray(items); }
            while (true)
            {
                SkipWhitespace();
                items.Add(ParseValue());
                SkipWhitespace();
                var next = Peek();
                _position++;
                if (next == ',') continue;
                if (next == ']') break;
                _position--;
                throw Fail("expected ',' or ']' in an array");
            }
            _depth--;
            return JsonValue.RawArray(items);
        }

        private string ParseString()
        {
            _position++;
            var builder = new StringBuilder();
            while (true)
            {
                if (_position >= _text.Length) throw Fail("a string is not closed");
                var c = _text[_position];
                if (c == '"') { _position++; return builder.ToString(); }
                if (c < 0x20) throw Fail("a control character must be escaped inside a string");
                if (c != '\\') { builder.Append(c); _position++; continue; }
                _position++;
                if (_position >= _text.Length) throw Fail("a string is not closed");
                var escape = _text[_position++];
                switch (escape)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u':
                        if (_position + 4 > _text.Length ||
                            !int.TryParse(_text.Substring(_position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        {
                            _position -= 2;
                            throw Fail("\\u must be followed by four hex digits");
                        }
                        builder.Append((char)code);
                        _position += 4;
                        break;
                    default:
                        _position -= 2;
                        throw Fail($"'\\{Describe(escape)}' is not a JSON escape");
                }
            }
        }

        private JsonValue ParseNumber()
        {
            var start = _position;
            if (Peek() == '-') _position++;
            if (Peek() == '0') _position++;
            else if (IsDigit(Peek())) while (IsDigit(Peek())) _position++;
            else throw Fail("a number needs digits");
            if (Peek() == '.')
            {
                _position++;
                if (!IsDigit(Peek())) throw Fail("a number needs digits after '.'");
                while (IsDigit(Peek())) _position++;
            }
            if (Peek() == 'e' || Peek() == 'E')
            {
                _position++;
                if (Peek() == '+' || Peek() == '-') _position++;
                if (!IsDigit(Peek())) throw Fail("a number needs digits in its exponent");
                while (IsDigit(Peek())) _position++;
            }
            return JsonValue.RawNumber(_text.Substring(start, _position - start));
        }

        private void Expect(string word)
        {
            if (string.CompareOrdinal(_text, _position, word, 0, word.Length) != 0)
            {
                var reason = $"unexpected '{Describe(_text[_position])}' where a JSON value should start";
                if (word.StartsWith(_text.Substring(_position), System.StringComparison.Ordinal)) _position = _text.Length;
                throw Fail(reason);
            }
            _position += word.Length;
        }

        private void Enter()
        {
            if (++_depth > MaxDepth) throw Fail($"the JSON nests deeper than {MaxDepth} levels");
        }

        private char Peek() => _position < _text.Length ? _text[_position] : '\0';

        private static bool IsDigit(char c) => c >= '0' && c <= '9';

        private void SkipWhitespace()
        {
            while (_position < _text.Length)
            {
                var c = _text[_position];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                _position++;
            }
        }

        private static string Describe(char c) => c < 0x20 || c == 0x7f ? $"\\u{(int)c:x4}" : c.ToString();

        private JsonFormatException Fail(string reason) =>
            _position >= _text.Length && (reason.StartsWith("unexpected") || reason.StartsWith("expected"))
                ? new JsonFormatException("the JSON text ends too early", _position)
                : new JsonFormatException(reason, _position);
    }
}
