using System;
using System.Collections.Generic;
using System.Text;

namespace ImageTools.Registry
{
    /// <summary>
    /// One challenge of a <c>WWW-Authenticate</c> header (RFC 7235): a scheme and its parameters.
    /// Registries send <c>Bearer realm="…",service="…",scope="repository:a/b:pull,push"</c>, where
    /// the scope's quoted commas must not split the parameter, or <c>Basic realm="…"</c>.
    /// </summary>
    internal sealed class AuthChallenge
    {
        public AuthChallenge(string scheme, IReadOnlyDictionary<string, string> parameters)
        {
            Scheme = scheme;
            Parameters = parameters;
        }

        /// <summary>The scheme as sent (compare case-insensitively).</summary>
        public string Scheme { get; }

        /// <summary>Parameter names are case-insensitive.</summary>
        public IReadOnlyDictionary<string, string> Parameters { get; }

        public bool IsBearer => string.Equals(Scheme, "Bearer", StringComparison.OrdinalIgnoreCase);
        public bool IsBasic => string.Equals(Scheme, "Basic", StringComparison.OrdinalIgnoreCase);

        public string? Realm => Get("realm");
        public string? Service => Get("service");
        public string? Scope => Get("scope");
        /// <summary>Bearer error code, e.g. <c>insufficient_scope</c> or <c>invalid_token</c>.</summary>
        public string? Error => Get("error");

        private string? Get(string name) => Parameters.TryGetValue(name, out var value) ? value : null;

        public override string ToString() => $"{Scheme} realm={Realm ?? "(none)"}";

        /// <summary>Every challenge in the given header values, in order; malformed parts are skipped.</summary>
        public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
        {
            var challenges = new List<AuthChallenge>();
            foreach (var header in headerValues) ParseInto(header ?? "", challenges);
            return challenges;
        }

        public static IReadOnlyList<AuthChallenge> Parse(string headerValue) => Parse(new[] { headerValue });

        private static void ParseInto(string text, List<AuthChallenge> into)
        {
            var position = 0;
            string? scheme = null;
            var parameters = NewParameters();
            while (true)
            {
                SkipSeparators(text, ref position);
                if (position >= text.Length) break;
                var token = ReadToken(text, ref position);
                if (token.Length == 0) { position++; continue; } // a stray character: skip it
                var afterToken = position;
                SkipSpaces(text, ref position);
                if (position < text.Length && text[position] == '=' && scheme != null)
                {
                    position++;
                    SkipSpaces(text, ref position);
                    var value = position < text.Length && text[position] == '"' ? ReadQuoted(text, ref position) : ReadToken(text, ref position);
                    parameters[token] = value;
                    continue;
                }
                // A bare token after a scheme starts the next challenge.
                position = afterToken;
                if (scheme != null) into.Add(new AuthChallenge(scheme, parameters));
                scheme = token;
                parameters = NewParameters();
            }
            if (scheme != null) into.Add(new AuthChallenge(scheme, parameters));
        }

        private static Dictionary<string, string> NewParameters() => new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        private static bool IsTokenChar(char c) =>
            c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != '=' && c != ';' && c != '(' && c != ')' && c != '<' && c != '>' &&
            c != '@' && c != ':' && c != '\\' && c != '/' && c != '[' && c != ']' && c != '?' && c != '{' && c != '}'
            || c == '/' || c == ':' || c == '@'; // tolerated unquoted in realm URLs some servers send without quotes

        private static string ReadToken(string text, ref int position)
        {
            var start = position;
            while (position < text.Length && IsTokenChar(text[position])) position++;
            return text.Substring(start, position - start);
        }

        private static string ReadQuoted(string text, ref int position)
        {
            position++; // opening quote
            var value = new StringBuilder();
            while (position < text.Length)
            {
                var c = text[position++];
                if (c == '"') return value.ToString();
                if (c == '\\' && position < text.Length) c = text[position++];
                value.Append(c);
            }
            return value.ToString(); // unterminated: keep what there is
        }

        private static void SkipSpaces(string text, ref int position)
        {
            while (position < text.Length && (text[position] == ' ' || text[position] == '\t')) position++;
        }

        private static void SkipSeparators(string text, ref int position)
        {
            while (position < text.Length && (text[position] == ' ' || text[position] == '\t' || text[position] == ',')) position++;
        }
    }
}
