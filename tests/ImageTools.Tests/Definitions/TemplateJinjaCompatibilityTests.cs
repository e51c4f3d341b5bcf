using System.Collections.Generic;
using ImageTools.Formats.Templates;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    /// <summary>
    /// The renderer against Jinja itself: every expected output below was produced by Jinja2 3.1.6
    /// (StrictUndefined, docker-pkg's settings) with docker-pkg's filters and apt templates, from the
    /// same template and variables. The first four templates are docker-pkg's test fixtures.
    /// </summary>
    public class TemplateJinjaCompatibilityTests
    {
        private static readonly Dictionary<string, string> Tags = new Dictionary<string, string>
        {
            ["foo-bar"] = "registry.example.org/ops/foo-bar:0.0.1",
            ["upstream-version"] = "registry.example.org/ops/upstream-version:1.63.0-1",
            ["upstream-version-extended"] = "registry.example.org/ops/upstream-version-extended:1.63.0-1-20241211",
        };

        internal static Dictionary<string, object?> Config() => new Dictionary<string, object?>
        {
            ["registry"] = "registry.example.org",
            ["namespace"] = "ops",
            ["apt_options"] = "",
            ["apt_only_proxy"] = null,
            ["http_proxy"] = null,
            ["known_uid_mappings"] = new Dictionary<string, object?> { ["root"] = 0L, ["www-data"] = 33L, ["nobody"] = 65534L },
            ["pkg_list"] = new List<object?> { "curl", "jq" },
            ["debug"] = false,
            ["count"] = 0L,
            ["ratio"] = 1.5,
            ["whole"] = 2.0,
            ["empty_list"] = new List<object?>(),
            ["mapping"] = new Dictionary<string, object?> { ["a"] = 1L, ["b"] = "two" },
            ["nothing"] = null,
            ["zero_str"] = "0",
            ["quote"] = "it's",
        };

        internal static string Render(string template, IDictionary<string, object?>? overrides = null)
        {
            var config = Config();
            foreach (var pair in overrides ?? new Dictionary<string, object?>()) config[pair.Key] = pair.Value;
            return new TemplateRenderer(config, name => Tags.TryGetValue(name, out var tag) ? tag : null)
                .Render(template, "/t/Dockerfile.template");
        }

        public static IEnumerable<object[]> JinjaCases => new[]
        {
            new object[] { "foo-bar fixture", "FROM test\n\nRUN {{ \"xpenguins\" | apt_install }}\n", new Dictionary<string, object?> {  }, "FROM test\n\nRUN apt-get update  \\\n    && DEBIAN_FRONTEND=noninteractive \\\n    apt-get install  --yes xpenguins --no-install-recommends \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* " },
            new object[] { "foobar-server fixture", "FROM {{ \"foo-bar\" | image_tag }}\n\nCOPY /build/xpenguins-server /bin/xpenguins-server\n\nRUN /bin/xpenguins-server --build-cache\n", new Dictionary<string, object?> {  }, "FROM registry.example.org/ops/foo-bar:0.0.1\n\nCOPY /build/xpenguins-server /bin/xpenguins-server\n\nRUN /bin/xpenguins-server --build-cache" },
            new object[] { "upstream-version fixture", "FROM test\n\nARG UPSTREAM_VERSION={{ \"upstream-version\" | image_tag | upstream_version }}\n\nRUN echo Upstream version: $UPSTREAM_VERSION\n", new Dictionary<string, object?> {  }, "FROM test\n\nARG UPSTREAM_VERSION=1.63.0\n\nRUN echo Upstream version: $UPSTREAM_VERSION" },
            new object[] { "upstream-version-extended fixture", "FROM test\n\nARG UPSTREAM_VERSION={{ \"upstream-version-extended\" | image_tag | upstream_version }}\n\nRUN echo Upstream version: $UPSTREAM_VERSION\n", new Dictionary<string, object?> {  }, "FROM test\n\nARG UPSTREAM_VERSION=1.63.0\n\nRUN echo Upstream version: $UPSTREAM_VERSION" },
            new object[] { "apt with options and proxy", "RUN {{ \"curl\njq\n\" | apt_install }}\nRUN {{ \"gcc make\" | apt_remove }}\n", new Dictionary<string, object?> { ["apt_options"] = "-q -o Dpkg::Options::=--force-confold", ["apt_only_proxy"] = "http://webproxy:8080" }, "RUN echo 'Acquire::http::Proxy \"http://webproxy:8080\";' > /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get update -q -o Dpkg::Options::=--force-confold \\\n    && DEBIAN_FRONTEND=noninteractive \\\n    apt-get install -q -o Dpkg::Options::=--force-confold --yes curl jq  --no-install-recommends \\\n    && rm -f /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* \nRUN echo 'Acquire::http::Proxy \"http://webproxy:8080\";' > /etc/apt/apt.conf.d/80_proxy  && \\apt-get update && DEBIAN_FRONTEND=noninteractive apt-get remove --yes --purge gcc make \\\n    && rm -f /etc/apt/apt.conf.d/80_proxy \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* " },
            new object[] { "apt_remove without proxy", "RUN {{ \"gcc\" | apt_remove }}", new Dictionary<string, object?> {  }, "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get remove --yes --purge gcc \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/* " },
            new object[] { "python printing", "{{ pkg_list }} {{ mapping }} {{ nothing }} {{ debug }} {{ ratio }} {{ whole }} {{ count }} {{ [quote, \"x\"] }} {{ empty_list }}", new Dictionary<string, object?> {  }, "['curl', 'jq'] {'a': 1, 'b': 'two'} None False 1.5 2.0 0 [\"it's\", 'x'] []" },
            new object[] { "truthiness", "{% if count %}a{% elif zero_str %}b{% endif %}{% if not empty_list and mapping %}c{% endif %}{% if nothing %}x{% else %}y{% endif %}{% if registry == \"registry.example.org\" and debug != true %}d{% endif %}{% if \"jq\" in pkg_list and \"zz\" not in pkg_list %}e{% endif %}{% if ratio == 1.5 and count == 0 and not nothing %}f{% endif %}", new Dictionary<string, object?> {  }, "bcydef" },
            new object[] { "default", "{{ missing | default(\"x\") }}|{{ nothing | default(\"x\") }}|{{ nothing | default(\"x\", true) }}|{{ mapping.c | default(\"dflt\") }}|{{ \"\" | default(\"e\", true) }}|{{ \"\" | default(\"e\") }}|{{ missing | default }}|", new Dictionary<string, object?> {  }, "x|None|x|dflt|e|||" },
            new object[] { "whitespace control", "FROM base\n{%- if debug %}\nRUN debug\n{%- else %}\nRUN release\n{%- endif %}\n\n{% for p in pkg_list -%}\n  RUN install {{ p }}\n{% endfor -%}\n{#- a comment -#}\nLABEL x={{- \" y \" -}}  .\n{%+ if true +%}keep{% endif %}\n  {{- \"-\" }}  \n{{ \"end\" }}\n\n", new Dictionary<string, object?> {  }, "FROM base\nRUN release\n\nRUN install curl\nRUN install jq\nLABEL x= y .\nkeep-  \nend\n" },
            new object[] { "raw blocks", "HEALTHCHECK CMD docker inspect -f {% raw %}\"{{ .State.Health.Status }}\"{% endraw %} x\n{%- raw -%}   {% if %}   {%- endraw %}|\n", new Dictionary<string, object?> {  }, "HEALTHCHECK CMD docker inspect -f \"{{ .State.Health.Status }}\" x{% if %}|" },
            new object[] { "strings holding tag ends", "{{ \"}}\" }}{{ '%}' ~ \"#}\" }}{{ \"a\\\"b\" }}{# {{ not parsed }} #}\n", new Dictionary<string, object?> {  }, "}}%}#}a\"b" },
            new object[] { "set and loop scoping", "{% set x = \"top\" %}{% for p in pkg_list %}{% set x = p %}{{ x }},{% endfor %}{{ x }}{% if true %}{% set y = \"in-if\" %}{% endif %} {{ y }}", new Dictionary<string, object?> {  }, "curl,jq,top in-if" },
            new object[] { "loops over mappings and literals", "{% for k in mapping %}{{ k }}={{ mapping[k] }};{% endfor %}{% for n in [1, 2] %}{% for p in pkg_list %}{{ n }}{{ p }} {% endfor %}{% endfor %}{% for c in \"ab\" %}[{{ c }}]{% endfor %}", new Dictionary<string, object?> {  }, "a=1;b=two;1curl 1jq 2curl 2jq [a][b]" },
            new object[] { "trailing newline", "a\n\n", new Dictionary<string, object?> {  }, "a\n" },
            new object[] { "users", "USER {{ \"www-data\" | uid }}\nUSER {{ \"someone\" | uid }}\nRUN {{ \"nobody\" | add_user }}\n", new Dictionary<string, object?> {  }, "USER 33\nUSER someone\nRUN groupadd -o -g 65534 -r nobody && useradd -l -o -r -m -d /var/lib/nobody -g nobody -u 65534 nobody" },
            new object[] { "filters from Jinja", "{{ pkg_list | join(\",\") }} {{ \"MiXed\" | lower }}{{ \"up\" | upper }} [{{ \"  t  \" | trim }}]", new Dictionary<string, object?> {  }, "curl,jq mixedUP [t]" },
            new object[] { "upstream_version 1.2.3", "{{ \"x:1.2.3\" | upstream_version }}", new Dictionary<string, object?> {  }, "1.2.3" },
            new object[] { "upstream_version 1.2.3-1", "{{ \"x:1.2.3-1\" | upstream_version }}", new Dictionary<string, object?> {  }, "1.2.3" },
            new object[] { "upstream_version 1.0-1-20241211", "{{ \"x:1.0-1-20241211\" | upstream_version }}", new Dictionary<string, object?> {  }, "1.0" },
            new object[] { "upstream_version 0.1.2-1-s8", "{{ \"x:0.1.2-1-s8\" | upstream_version }}", new Dictionary<string, object?> {  }, "0.1.2" },
            new object[] { "upstream_version 0.1.2-s1", "{{ \"x:0.1.2-s1\" | upstream_version }}", new Dictionary<string, object?> {  }, "0.1.2" },
            new object[] { "upstream_version 1.63.0-1", "{{ \"x:1.63.0-1\" | upstream_version }}", new Dictionary<string, object?> {  }, "1.63.0" },
            new object[] { "upstream_version 2.4.1-3+deb12u1", "{{ \"x:2.4.1-3+deb12u1\" | upstream_version }}", new Dictionary<string, object?> {  }, "2.4.1" },
            new object[] { "upstream_version 1.2.3~rc1-1", "{{ \"x:1.2.3~rc1-1\" | upstream_version }}", new Dictionary<string, object?> {  }, "1.2.3~rc1" },
            new object[] { "upstream_version 20241211", "{{ \"x:20241211\" | upstream_version }}", new Dictionary<string, object?> {  }, "20241211" },
            new object[] { "upstream_version 1.2.3-rc1-1-s2", "{{ \"x:1.2.3-rc1-1-s2\" | upstream_version }}", new Dictionary<string, object?> {  }, "1.2.3" },
            new object[] { "upstream_version latest", "{{ \"x:latest\" | upstream_version }}", new Dictionary<string, object?> {  }, "latest" }
        };

        [Theory]
        [MemberData(nameof(JinjaCases))]
        public void Renders_what_Jinja_renders(string name, string template, Dictionary<string, object?> overrides, string expected)
        {
            Assert.NotNull(name);
            Assert.Equal(expected, Render(template, overrides));
        }

        [Fact]
        public void Windows_line_endings_render_like_Unix_ones() =>
            Assert.Equal("FROM registry.example.org/ops/foo-bar:0.0.1\n\nRUN x",
                Render("FROM {{ \"foo-bar\" | image_tag }}\r\n\r\nRUN x\r\n"));

        [Fact]
        public void A_package_list_from_the_config_is_accepted_by_apt_install() =>
            Assert.Contains("--yes curl jq --no-install-recommends", Render("{{ pkg_list | apt_install }}"));
    }
}
