using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Templates
{
    internal enum TokenKind { Text, Output, Statement }

    internal sealed class TemplateToken
    {
        public TemplateToken(TokenKind kind, string content, int line)
        {
            Kind = kind;
            Content = content;
            Line = line;
        }

        public TokenKind Kind { get; }
        public string Content { get; set; }
        public int Line { get; }
    }

    /// <summary>
    /// Splits a template into text, {{ output }} and {% statement %} tokens, applying Jinja's
    /// whitespace control ('-' strips, '+' is accepted and changes nothing since lstrip_blocks is
    /// off) and keeping {% raw %} bodies as text.
    /// </summary>
    internal static class TemplateLexer
    {
        private static readonly Regex RawOpen = new Regex(@"\G\{%[-+]?\s*raw\s*[-+]?%\}", RegexOptions.CultureInvariant);
        private static readonly Regex RawClose = new Regex(@"\{%(-?)\+?\s*endraw\s*[-+]?%\}", RegexOptions.CultureInvariant);

        public static List<TemplateToken> Tokenize(string text, string filePath)
        {
            var tokens = new List<TemplateToken>();
            var line = 1;
            var position = 0;
            var stripNextLeading = false;
            while (position < text.Length)
            {
                var open = NextOpen(text, position);
                var literal = text.Substring(position, (open < 0 ? text.Length : open) - position);
                if (stripNextLeading) literal = literal.TrimStart();
                stripNextLeading = false;
                if (open < 0)
                {
                    if (literal.Length > 0) tokens.Add(new TemplateToken(TokenKind.Text, literal, line));
                    break;
                }
                var tagLine = line + Count(text, position, open);
                var marker = text[open + 1];
                var closeMarker = marker == '{' ? "}}" : marker == '%' ? "%}" : "#}";
                var close = FindClose(text, open + 2, closeMarker, quoted: marker != '#');
                if (close < 0)
                    throw new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData,
                        $"'{text.Substring(open, 2)}' is never closed with '{closeMarker}'. Close the tag.", filePath, tagLine);

                var inner = text.Substring(open + 2, close - open - 2);
                if (inner.StartsWith("-", StringComparison.Ordinal))
                {
                    literal = literal.TrimEnd();
                    inner = inner.Substring(1);
                }
                else if (inner.StartsWith("+", StringComparison.Ordinal)) inner = inner.Substring(1);
                if (inner.EndsWith("-", StringComparison.Ordinal))
                {
                    stripNextLeading = true;
                    inner = inner.Substring(0, inner.Length - 1);
                }
                else if (inner.EndsWith("+", StringComparison.Ordinal)) inner = inner.Substring(0, inner.Length - 1);
                if (literal.Length > 0) tokens.Add(new TemplateToken(TokenKind.Text, literal, line));

                if (marker == '%' && RawOpen.IsMatch(text, open))
                {
                    // Everything up to {% endraw %} is text, so Go templates ({{ .Field }}) can pass through.
                    var end = RawClose.Match(text, close + 2);
                    if (!end.Success)
                        throw new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData,
                            "This {% raw %} block is never closed: add {% endraw %} after its body.", filePath, tagLine);
                    var body = text.Substring(close + 2, end.Index - close - 2);
                    if (stripNextLeading) body = body.TrimStart();
                    if (end.Groups[1].Value == "-") body = body.TrimEnd();
                    stripNextLeading = end.Value.EndsWith("-%}", StringComparison.Ordinal);
                    if (body.Length > 0) tokens.Add(new TemplateToken(TokenKind.Text, body, tagLine + Count(text, open, close + 2)));
                    line = tagLine + Count(text, open, end.Index + end.Length);
                    position = end.Index + end.Length;
                    continue;
                }
                if (marker == '{') tokens.Add(new TemplateToken(TokenKind.Output, inner.Trim(), tagLine));
                else if (marker == '%') tokens.Add(new TemplateToken(TokenKind.Statement, inner.Trim(), tagLine));

                line = tagLine + Count(text, open, close + 2);
                position = close + 2;
                // Jinja's default trim_blocks is off: the newline after a block tag stays.
            }
            return tokens;
        }

        /// <summary>The closing marker, skipping string literals so that {{ "}}" }} works as in Jinja.</summary>
        private static int FindClose(string text, int from, string closeMarker, bool quoted)
        {
            char? quote = null;
            for (var i = from; i < text.Length; i++)
            {
                var c = text[i];
                if (quote != null)
                {
                    if (c == '\\') i++;
                    else if (c == quote) quote = null;
                    continue;
                }
                if (quoted && (c == '"' || c == '\'')) { quote = c; continue; }
                if (string.CompareOrdinal(text, i, closeMarker, 0, closeMarker.Length) == 0) return i;
            }
            return -1;
        }

        private static int NextOpen(string text, int from)
        {
            for (var i = text.IndexOf('{', from); i >= 0 && i + 1 < text.Length; i = text.IndexOf('{', i + 1))
                if (text[i + 1] == '{' || text[i + 1] == '%' || text[i + 1] == '#') return i;
            return -1;
        }

        private static int Count(string text, int from, int to)
        {
            var count = 0;
            for (var i = from; i < to; i++) if (text[i] == '\n') count++;
            return count;
        }
    }
}
