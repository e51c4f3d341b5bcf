using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace ImageTools.Formats.Templates
{
    internal delegate object? TemplateFilter(object? input, IReadOnlyList<object?> arguments, RenderContext context, int line);

    /// <summary>docker-pkg's filters (dockerfile.py) with the same output, plus a few plain Jinja ones.</summary>
    internal static class TemplateFilters
    {
        public static readonly IReadOnlyDictionary<string, TemplateFilter> All = new Dictionary<string, TemplateFilter>(StringComparer.Ordinal)
        {
            ["image_tag"] = ImageTag,
            ["upstream_version"] = UpstreamVersion,
            ["apt_install"] = AptInstall,
            ["apt_remove"] = AptRemove,
            ["uid"] = (input, _, context, line) => Uid(Truth.Text(input), context, line, strict: false),
            ["add_user"] = AddUser,
            // Jinja: default(value, default_value='', boolean=False) replaces only Undefined, or any false value when boolean is true.
            ["default"] = (input, arguments, _, _) =>
                input is Undefined || (arguments.Count > 1 && Truth.Of(arguments[1]) && !Truth.Of(input))
                    ? (arguments.Count > 0 ? arguments[0] : "")
                    : input,
            ["lower"] = (input, _, _, _) => Truth.Text(input).ToLowerInvariant(),
            ["upper"] = (input, _, _, _) => Truth.Text(input).ToUpperInvariant(),
            ["trim"] = (input, _, _, _) => Truth.Text(input).Trim(),
            ["join"] = (input, arguments, _, _) => input is IEnumerable items && !(input is string)
                ? string.Join(arguments.Count > 0 ? Truth.Text(arguments[0]) : "", items.Cast<object?>().Select(Truth.Text))
                : Truth.Text(input),
        };

        /// <summary>How many arguments a filter takes after its input; docker-pkg's take none.</summary>
        public static int MaxArguments(string name) => name switch
        {
            "default" => 2,
            "join" => 1,
            _ => 0,
        };

        private static object? ImageTag(object? input, IReadOnlyList<object?> arguments, RenderContext context, int line)
        {
            var name = Truth.Text(input);
            return context.ResolveImageTag(name) ?? throw context.Error("TemplateUnknownImage", line,
                $"image_tag: there is no image named '{name}' in the tree. Fix the name, or add that image.");
        }

        /// <summary>
        /// docker-pkg's upstream_version: the tag after ':'; unchanged without '-'; else at most its
        /// first two dash-separated parts, read as a Debian version (python-debian BaseVersion) whose
        /// upstream part is returned: no epoch, no revision.
        /// </summary>
        private static object? UpstreamVersion(object? input, IReadOnlyList<object?> arguments, RenderContext context, int line)
        {
            var text = Truth.Text(input);
            // docker-pkg splits on ':' and needs exactly two parts; a registry port (host:5000/name:tag) is
            // accepted here as well, by taking the tag after the last ':' that follows the last '/'.
            var colon = text.LastIndexOf(':');
            if (colon < 0 || colon < text.LastIndexOf('/'))
                throw context.Error("TemplateFilterError", line, $"upstream_version needs 'image:tag', got '{text}'. Pipe it through image_tag first.");
            var tag = text.Substring(colon + 1);
            if (tag.IndexOf('-') < 0) return tag;
            var parts = tag.Split('-');
            if (parts.Length > 2) tag = parts[0] + "-" + parts[1];
            var match = DebianVersionPattern.Match(tag);
            if (!match.Success)
                throw context.Error("TemplateFilterError", line,
                    $"upstream_version: '{tag}' (from '{text}') is not a Debian version. Fix the version in the image's changelog.");
            return match.Groups["upstream"].Value;
        }

        /// <summary>python-debian's BaseVersion.re_valid_version.</summary>
        private static readonly Regex DebianVersionPattern = new Regex(
            @"^((?<epoch>\d+):)?(?<upstream>[A-Za-z0-9.+:~-]+?)(-(?<revision>[A-Za-z0-9+.~]+))?$", RegexOptions.CultureInvariant);

        private static object? AptInstall(object? input, IReadOnlyList<object?> arguments, RenderContext context, int line)
        {
            var packages = PackageList(input).Replace("\n", " ");
            var options = Config(context, "apt_options");
            var proxy = Config(context, "apt_only_proxy");
            return proxy.Length > 0
                ? $"echo 'Acquire::http::Proxy \"{proxy}\";' > /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get update {options} \\\n" +
                  $"    && DEBIAN_FRONTEND=noninteractive \\\n    apt-get install {options} --yes {packages} --no-install-recommends \\\n" +
                  "    && rm -f /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* "
                : $"apt-get update {options} \\\n    && DEBIAN_FRONTEND=noninteractive \\\n" +
                  $"    apt-get install {options} --yes {packages} --no-install-recommends \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* ";
        }

        private static object? AptRemove(object? input, IReadOnlyList<object?> arguments, RenderContext context, int line)
        {
            var packages = PackageList(input);
            var proxy = Config(context, "apt_only_proxy");
            // docker-pkg's template joins the proxy line and the command without a newline; kept as is.
            return (proxy.Length > 0 ? $"echo 'Acquire::http::Proxy \"{proxy}\";' > /etc/apt/apt.conf.d/80_proxy  && \\" : "") +
                   $"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get remove --yes --purge {packages} \\\n" +
                   (proxy.Length > 0 ? "    && rm -f /etc/apt/apt.conf.d/80_proxy \\\n" : "") +
                   "    && apt-get clean && rm -rf /var/lib/apt/lists/* ";
        }

        /// <summary>docker-pkg takes a string; a list (e.g. from the config) is accepted too, space-separated.</summary>
        private static string PackageList(object? input) =>
            input is IEnumerable items && !(input is string) ? string.Join(" ", items.Cast<object?>().Select(Truth.Text)) : Truth.Text(input);

        private static object? AddUser(object? input, IReadOnlyList<object?> arguments, RenderContext context, int line)
        {
            var user = Truth.Text(input);
            var id = Uid(user, context, line, strict: true);
            return $"groupadd -o -g {id} -r {user} && useradd -l -o -r -m -d /var/lib/{user} -g {user} -u {id} {user}";
        }

        /// <summary>The numeric uid from known_uid_mappings; the name itself when unmapped (docker-pkg warns), an error for add_user.</summary>
        private static string Uid(string user, RenderContext context, int line, bool strict)
        {
            if (context.Config.TryGetValue("known_uid_mappings", out var mappings) &&
                mappings is IDictionary<string, object?> map && map.TryGetValue(user, out var id) && id != null)
                return Truth.Text(id);
            if (strict)
                throw context.Error("TemplateFilterError", line,
                    $"add_user: no uid is known for '{user}'. Add it under known_uid_mappings in imagetools.yaml.");
            return user;
        }

        private static string Config(RenderContext context, string key) =>
            context.Config.TryGetValue(key, out var value) && value != null ? Truth.Text(value) : "";
    }
}
