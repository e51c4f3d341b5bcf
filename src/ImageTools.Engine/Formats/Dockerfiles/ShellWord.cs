using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Dockerfiles
{
    /// <summary>
    /// BuildKit's word processing (frontend/dockerfile/shell/lex.go): quotes removed, the escape
    /// character taken literally outside quotes and only before <c>" $</c> and itself inside double
    /// quotes, and variables expanded: <c>$VAR ${VAR} ${VAR:-w} ${VAR-w} ${VAR:+w} ${VAR+w}
    /// ${VAR:?w} ${VAR?w} ${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p}</c>, with nested expansion in <c>w</c>.
    /// </summary>
    internal sealed class ShellWord
    {
        private readonly string _text;
        private readonly char _escape;
        private readonly IReadOnlyDictionary<string, string?> _values;
        private readonly Func<string, ImageToolsException> _error;
        private readonly HashSet<string> _unset = new HashSet<string>(StringComparer.Ordinal);
        private int _position;

        private ShellWord(string text, char escape, IReadOnlyDictionary<string, string?> values, Func<string, ImageToolsException> error)
        {
            _text = text;
            _escape = escape;
            _values = values;
            _error = error;
        }

        /// <summary>Expands <paramref name="word"/>; <paramref name="unset"/> receives the variables read without a value.</summary>
        public static string Expand(string word, char escape, IReadOnlyDictionary<string, string?> values,
            Func<string, ImageToolsException> error, out IReadOnlyCollection<string> unset)
        {
            var shell = new ShellWord(word, escape, values, error);
            var result = shell.ReadUntil(null);
            unset = shell._unset;
            return result;
        }

        public static string Expand(string word, char escape, IReadOnlyDictionary<string, string?> values, Func<string, ImageToolsException> error) =>
            Expand(word, escape, values, error, out _);

        /// <summary>Removes quotes and escapes but leaves <c>$</c> alone, as BuildKit does for instruction flags.</summary>
        public static string Unquote(string word, char escape)
        {
            var result = new StringBuilder();
            char? quote = null;
            for (var i = 0; i < word.Length; i++)
            {
                var c = word[i];
                if (c == escape && quote != '\'' && i + 1 < word.Length) { result.Append(word[++i]); continue; }
                if (quote == null && (c == '"' || c == '\'')) { quote = c; continue; }
                if (quote == c) { quote = null; continue; }
                result.Append(c);
            }
            return result.ToString();
        }

        /// <summary>
        /// Splits on white space outside quotes, keeping quotes and escapes in the words
        /// (BuildKit's RawQuotes/RawEscapes mode, used to find heredoc markers and flags).
        /// </summary>
        public static List<string> RawWords(string text, char escape)
        {
            var words = new List<string>();
            var current = new StringBuilder();
            char? quote = null;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quote == null && char.IsWhiteSpace(c))
                {
                    if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); }
                    continue;
                }
                current.Append(c);
                if (c == escape && quote != '\'' && i + 1 < text.Length) { current.Append(text[++i]); continue; }
                if (quote == null && (c == '"' || c == '\'')) quote = c;
                else if (quote == c) quote = null;
            }
            if (current.Length > 0) words.Add(current.ToString());
            return words;
        }

        private bool AtEnd => _position >= _text.Length;
        private char Peek => _text[_position];

        private string ReadUntil(char? stop)
        {
            var result = new StringBuilder();
            while (!AtEnd)
            {
                var c = Peek;
                if (stop == c)
                {
                    _position++;
                    return result.ToString();
                }
                if (c == '\'') result.Append(ReadSingleQuoted());
                else if (c == '"') result.Append(ReadDoubleQuoted());
                else if (c == '$') result.Append(ReadDollar());
                else
                {
                    _position++;
                    if (c == _escape)
                    {
                        if (AtEnd) break;
                        c = _text[_position++];
                    }
                    result.Append(c);
                }
            }
            if (stop != null) throw _error($"Unterminated '${{' in '{_text}'. Close it with '}}'.");
            return result.ToString();
        }

        private string ReadSingleQuoted()
        {
            var close = _text.IndexOf('\'', _position + 1);
            if (close < 0) throw _error($"Unterminated single quote in '{_text}'. Close the quote.");
            var inner = _text.Substring(_position + 1, close - _position - 1);
            _position = close + 1;
            return inner;
        }

        private string ReadDoubleQuoted()
        {
            var result = new StringBuilder();
            _position++;
            while (true)
            {
                if (AtEnd) throw _error($"Unterminated double quote in '{_text}'. Close the quote.");
                var c = Peek;
                if (c == '"') { _position++; return result.ToString(); }
                if (c == '$') { result.Append(ReadDollar()); continue; }
                _position++;
                if (c == _escape && !AtEnd && (Peek == '"' || Peek == '$' || Peek == _escape)) c = _text[_position++];
                result.Append(c);
            }
        }

        private string ReadDollar()
        {
            _position++;
            if (AtEnd || Peek != '{')
            {
                var plain = ReadName();
                return plain.Length == 0 ? "$" : Lookup(plain) ?? "";
            }
            _position++;
            if (AtEnd) throw _error($"Unterminated '${{' in '{_text}'. Close it with '}}'.");
            var name = ReadName();
            if (name.Length == 0 || AtEnd)
                throw _error(AtEnd
                    ? $"Unterminated '${{' in '{_text}'. Close it with '}}'."
                    : $"Bad substitution in '{_text}': '${{' must be followed by a variable name.");
            var value = Lookup(name);
            var op = _text[_position++];
            if (op == '}') return value ?? "";

            var colon = op == ':';
            if (colon)
            {
                if (AtEnd) throw _error($"Unterminated '${{' in '{_text}'. Close it with '}}'.");
                op = _text[_position++];
            }
            var twice = !colon && (op == '#' || op == '%') && !AtEnd && Peek == op;
            if (twice) _position++;
            var operand = ReadUntil('}');
            var isSet = colon ? !string.IsNullOrEmpty(value) : value != null;
            switch (op)
            {
                case '-': return isSet ? value! : operand;
                case '+': return isSet ? operand : "";
                case '?':
                    if (isSet) return value!;
                    throw _error($"ARG {name} is required{(operand.Length > 0 ? $" ({operand})" : "")}. Give it a default or pass it as a build arg.");
                case '#' when !colon: return RemoveAffix(value ?? "", operand, prefix: true, longest: twice);
                case '%' when !colon: return RemoveAffix(value ?? "", operand, prefix: false, longest: twice);
                default:
                    throw _error($"'${{{name}{(colon ? ":" : "")}{op}...}}' uses a modifier Dockerfiles do not support; use :-, -, :+, +, :?, ?, #, ##, % or %%.");
            }
        }

        /// <summary>A name: letters, digits and '_'; a leading digit reads digits only (positional parameters).</summary>
        private string ReadName()
        {
            var start = _position;
            if (!AtEnd && char.IsDigit(Peek))
            {
                while (!AtEnd && char.IsDigit(Peek)) _position++;
                return _text.Substring(start, _position - start);
            }
            while (!AtEnd && (char.IsLetterOrDigit(Peek) || Peek == '_')) _position++;
            return _text.Substring(start, _position - start);
        }

        private string? Lookup(string name)
        {
            if (_values.TryGetValue(name, out var value) && value != null) return value;
            _unset.Add(name);
            return null;
        }

        /// <summary>Shell pattern removal: * ? and [..] as in POSIX globbing.</summary>
        private static string RemoveAffix(string value, string pattern, bool prefix, bool longest)
        {
            var glob = GlobToRegex(pattern);
            var lengths = new List<int>();
            for (var length = 0; length <= value.Length; length++) lengths.Add(length);
            if (longest) lengths.Reverse();
            foreach (var length in lengths)
            {
                var part = prefix ? value.Substring(0, length) : value.Substring(value.Length - length);
                if (glob.IsMatch(part)) return prefix ? value.Substring(length) : value.Substring(0, value.Length - length);
            }
            return value;
        }

        private static Regex GlobToRegex(string pattern)
        {
            var regex = new StringBuilder("^");
            for (var i = 0; i < pattern.Length; i++)
            {
                var c = pattern[i];
                if (c == '*') regex.Append(".*");
                else if (c == '?') regex.Append('.');
                else if (c == '[' && pattern.IndexOf(']', i + 1) is var close && close > i + 1)
                {
                    var set = pattern.Substring(i + 1, close - i - 1);
                    if (set[0] == '!') set = "^" + set.Substring(1);
                    regex.Append('[').Append(set.Replace("\\", "\\\\")).Append(']');
                    i = close;
                }
                else regex.Append(Regex.Escape(c.ToString()));
            }
            return new Regex(regex.Append('$').ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
        }
    }
}
