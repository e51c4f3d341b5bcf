using System.Collections.Generic;

namespace ImageTools.Definitions.Templates
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

    /// <summary>Splits a template into text, {{ output }} and {% statement %} tokens, applying whitespace control.</summary>
    internal static class TemplateLexer
    {
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
                var close = text.IndexOf(closeMarker, open + 2, System.StringComparison.Ordinal);
                if (close < 0)
                    throw new ImageToolsException("TemplateSyntaxError", FaultKind.InvalidData,
                        $"'{text.Substring(open, 2)}' is never closed with '{closeMarker}'. Close the tag.", filePath, tagLine);

                var inner = text.Substring(open + 2, close - open - 2);
                if (inner.StartsWith("-", System.StringComparison.Ordinal))
                {
                    literal = literal.TrimEnd();
                    inner = inner.Substring(1);
                }
                if (inner.EndsWith("-", System.StringComparison.Ordinal))
                {
                    stripNextLeading = true;
                    inner = inner.Substring(0, inner.Length - 1);
                }
                if (literal.Length > 0) tokens.Add(new TemplateToken(TokenKind.Text, literal, line));
                if (marker == '{') tokens.Add(new TemplateToken(TokenKind.Output, inner.Trim(), tagLine));
                else if (marker == '%') tokens.Add(new TemplateToken(TokenKind.Statement, inner.Trim(), tagLine));

                line = tagLine + Count(text, open, close + 2);
                position = close + 2;
                // Jinja's default trim_blocks is off: the newline after a block tag stays.
            }
            return tokens;
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
