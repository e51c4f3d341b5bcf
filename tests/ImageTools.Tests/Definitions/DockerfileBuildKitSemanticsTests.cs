using System.Collections.Generic;
using System.Linq;
using ImageTools.Formats.Dockerfiles;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    /// <summary>Cases where BuildKit's Dockerfile frontend has a precise rule the reader must match.</summary>
    public class DockerfileBuildKitSemanticsTests
    {
        private static DockerfileInfo Parse(string text, Dictionary<string, string>? args = null) =>
            DockerfileParser.Parse(text, "/t/Dockerfile", args);

        private static string[] Uses(DockerfileInfo info) => info.ImageUses.Select(u => $"{u.Instruction} {u.Reference} @{u.Line}").ToArray();

        private static ImageToolsException Fails(string text, Dictionary<string, string>? args = null)
        {
            var error = Assert.Throws<ImageToolsException>(() => Parse(text, args));
            Assert.Equal("DockerfileSyntaxError", error.ErrorId);
            Assert.Equal(FaultKind.InvalidData, error.Kind);
            Assert.StartsWith("/t/Dockerfile", error.Message);
            return error;
        }

        // ---- parser directives

        [Theory]
        [InlineData("# unknown=1\n# escape=`\nFROM busybox \\\n  AS b\n")]
        [InlineData("# a plain comment\n# escape=`\nFROM busybox \\\n  AS b\n")]
        [InlineData("\n# escape=`\nFROM busybox \\\n  AS b\n")]
        [InlineData("FROM busybox \\\n  AS b\n# escape=`\n")]
        public void A_directive_after_anything_else_is_only_a_comment(string text) =>
            Assert.Equal("b", Parse(text).Stages[0].Alias);

        [Theory]
        [InlineData("#escape=`\nFROM busybox `\n  AS b\n")]
        [InlineData("# syntax=docker/dockerfile:1\n#  ESCAPE =  `  \nFROM busybox `\n  AS b\n")]
        [InlineData("\uFEFF# escape=`\r\nFROM busybox `\r\n  AS b\r\n")]
        [InlineData("# check=skip=all\n# escape=`\nFROM busybox `\n  AS b\n")]
        public void Directive_spellings_BuildKit_accepts(string text) =>
            Assert.Equal("b", Parse(text).Stages[0].Alias);

        [Fact]
        public void A_repeated_directive_is_an_error() =>
            Assert.Contains("given twice", Fails("# syntax=a\n# SYNTAX=b\nFROM x\n").Message);

        // ---- lines, comments, continuations

        [Fact]
        public void An_escaped_escape_at_the_end_does_not_continue_the_line()
        {
            var info = Parse("FROM busybox\nRUN echo done\\\\\nFROM alpine AS second\n");

            Assert.Equal(new[] { "FROM busybox @1", "FROM alpine @3" }, Uses(info));
        }

        [Fact]
        public void Blanks_after_the_escape_still_continue_and_lines_are_counted_across_everything()
        {
            var info = Parse(
                "FROM busybox \\  \t\n" +            // 1
                "\n" +                                // 2 blank line inside the continuation
                "    # comment inside\n" +            // 3
                "#another\n" +                        // 4
                "  \n" +                              // 5
                "  AS one\n" +                        // 6 ends the FROM begun on line 1
                "RUN <<EOF\n" +                       // 7
                "FROM inside:heredoc\n" +             // 8
                "EOF\n" +                             // 9
                "  # indented comment\n" +            // 10
                "   from   one\n" +                   // 11 lower case, indented
                "COPY --from=nginx:1.25 / /\n");      // 12

            Assert.Equal("one", info.Stages[0].Alias);
            Assert.Equal(11, info.Stages[1].Line);
            Assert.Equal(new[] { "FROM busybox @1", "COPY --from nginx:1.25 @12" }, Uses(info));
        }

        [Fact]
        public void A_hash_inside_an_instruction_is_not_a_comment()
        {
            var info = Parse("ARG TAG=1#2\nFROM registry.example.org/app:$TAG\nRUN echo # FROM ignored:1\n");

            Assert.Equal(new[] { "FROM registry.example.org/app:1#2 @2" }, Uses(info));
        }

        [Fact]
        public void Windows_line_endings_and_the_backtick_escape()
        {
            var info = Parse(
                "# escape=`\r\n" +
                "ARG BASE=mcr.microsoft.com/windows/nanoserver:ltsc2022\r\n" +
                "FROM ${BASE} `\r\n" +
                "    AS build\r\n" +
                "RUN mkdir C:\\app `\r\n" +
                "    && echo \\n\r\n" +
                "COPY --from=mcr.microsoft.com/powershell:lts C:\\ps C:\\ps\r\n" +
                "FROM build\r\n");

            Assert.Equal(new[]
            {
                "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 @3",
                "COPY --from mcr.microsoft.com/powershell:lts @7",
            }, Uses(info));
            Assert.Equal(0, info.Stages[1].BaseStageIndex);
            Assert.Equal(8, info.Stages[1].Line);
        }

        // ---- heredocs

        [Fact]
        public void Heredoc_markers_follow_BuildKit_word_rules()
        {
            var info = Parse(
                "FROM busybox\n" +
                "RUN 3<<EOF cat /dev/fd/3\nFROM fake:fd\nEOF\n" +
                "RUN <<-'END' sh\n\t\tFROM fake:chomp\n\tEND\n" +
                "ADD <<\"A B\" /a\nFROM fake:spaced\nA B\n" +
                "RUN [\"sh\", \"-c\", \"echo <<EOF\"]\n" +
                "COPY --from=nginx:1.25 <<EOF /x\nFROM fake:copy\nEOF\n" +
                "FROM alpine\n");

            Assert.Equal(new[] { "FROM busybox @1", "COPY --from nginx:1.25 @12", "FROM alpine @15" }, Uses(info));
        }

        [Fact]
        public void Only_an_exact_line_ends_a_heredoc()
        {
            // '\tEOF' ends only a <<- heredoc; 'EOF ' never does.
            var error = Fails("FROM busybox\nRUN <<EOF\n\tEOF\nEOF \nFROM fake\n");

            Assert.Equal(2, error.Line);
            Assert.Contains("<<EOF is never closed", error.Message);
        }

        [Fact]
        public void Heredocs_only_belong_to_RUN_COPY_and_ADD()
        {
            var info = Parse("FROM busybox\nLABEL note=<<EOF\nFROM alpine\n");

            Assert.Equal(2, info.Stages.Count);
        }

        // ---- stages

        [Fact]
        public void Stage_names_are_case_insensitive_and_shadow_images()
        {
            var info = Parse(
                "FROM debian:bookworm AS debian\n" +
                "FROM DEBIAN AS Tools\n" +
                "COPY --from=tools /a /a\n" +
                "COPY --from=debian /b /b\n" +
                "FROM busybox AS busybox\n" +
                "FROM tools\n");

            Assert.Equal(new[] { "FROM debian:bookworm @1", "FROM busybox @5" }, Uses(info));
            Assert.Equal(0, info.Stages[1].BaseStageIndex);
            Assert.Equal(1, info.Stages[3].BaseStageIndex);
            Assert.Equal("debian:bookworm", info.FinalBase!.Reference);
        }

        [Fact]
        public void COPY_from_may_name_a_later_stage_but_FROM_may_not()
        {
            var info = Parse(
                "FROM alpine AS final\n" +
                "COPY --from=helper /x /x\n" +
                "FROM helper\n" +
                "FROM golang:1.22 AS helper\n");

            Assert.Equal(new[] { "FROM alpine @1", "FROM helper @3", "FROM golang:1.22 @4" }, Uses(info));
        }

        [Fact]
        public void COPY_from_an_index_must_name_an_existing_stage()
        {
            Assert.Empty(Parse("FROM scratch\nFROM scratch\nCOPY --from=1 / /\n").ImageUses);
            var error = Fails("FROM busybox\nCOPY --from=3 / /\n");
            Assert.Equal(2, error.Line);
            Assert.Contains("names stage 3", error.Message);
        }

        [Fact]
        public void COPY_from_context_is_the_build_context_unless_a_stage_has_that_name()
        {
            Assert.Equal(new[] { "FROM busybox @1" }, Uses(Parse("FROM busybox\nCOPY --from=context /a /a\n")));
            Assert.Equal(new[] { "FROM busybox @1" }, Uses(Parse("FROM busybox AS context\nFROM scratch\nCOPY --from=context /a /a\n")));
        }

        [Fact]
        public void Quoted_flags_are_unquoted_before_use()
        {
            var info = Parse(
                "FROM busybox\n" +
                "COPY --from=\"nginx:1.25\" /a /a\n" +
                "RUN --mount=\"type=bind,from=helper:2,target=/h\" --mount=type=cache,target=/c make\n");

            Assert.Equal(new[] { "FROM busybox @1", "COPY --from nginx:1.25 @2", "RUN --mount helper:2 @3" }, Uses(info));
        }

        [Fact]
        public void RUN_mount_sources_are_stages_or_images_and_tmpfs_has_none()
        {
            var info = Parse(
                "FROM golang:1.22 AS build\n" +
                "FROM alpine\n" +
                "RUN --mount=from=build,target=/src --mount=type=cache,from=cachebase:1,target=/c " +
                "--mount=type=tmpfs,from=ignored:1,target=/t --mount=type=secret,id=x true\n");

            Assert.Equal(new[] { "FROM golang:1.22 @1", "FROM alpine @2", "RUN --mount cachebase:1 @3" }, Uses(info));
        }

        [Fact]
        public void Unknown_stage_names_and_bad_FROM_lines_are_errors()
        {
            Assert.Contains("not a valid stage name", Fails("FROM busybox AS 1st\n").Message);
            Assert.Contains("not a valid stage name", Fails("FROM busybox AS my/stage\n").Message);
            Assert.Contains("before the first FROM", Fails("ARG X=1\nENV Y=2\nFROM busybox\n").Message);
            Assert.Contains("one image", Fails("FROM busybox # a comment\n").Message);
        }

        // ---- ARG and ENV scoping

        [Fact]
        public void FROM_sees_global_ARGs_only_and_build_args_win()
        {
            const string text =
                "ARG VERSION=1.36\n" +
                "FROM busybox:${VERSION}\n" +
                "ARG VERSION=9\n" +
                "ENV VERSION=10\n" +
                "FROM alpine:${VERSION}\n";

            Assert.Equal(new[] { "FROM busybox:1.36 @2", "FROM alpine:1.36 @5" }, Uses(Parse(text)));
            Assert.Equal(new[] { "FROM busybox:1.37 @2", "FROM alpine:1.37 @5" },
                Uses(Parse(text, new Dictionary<string, string> { ["VERSION"] = "1.37" })));
        }

        [Fact]
        public void Global_ARG_defaults_expand_earlier_globals_after_build_args()
        {
            var info = Parse("ARG REGISTRY=docker.io\nARG BASE=${REGISTRY}/library/debian\nFROM $BASE\n",
                new Dictionary<string, string> { ["REGISTRY"] = "mirror.local:5000" });

            Assert.Equal("mirror.local:5000/library/debian", info.ImageUses[0].Reference);
            Assert.Equal("mirror.local:5000/library/debian", info.GlobalArgs["BASE"]);
            Assert.Equal("docker.io", info.GlobalArgs["REGISTRY"]);
        }

        [Fact]
        public void COPY_from_sees_stage_ARGs_ENV_and_inherited_ENV()
        {
            var info = Parse(
                "ARG TOOLS=tools:1\n" +
                "ARG UNUSED=x\n" +
                "FROM busybox AS base\n" +
                "ENV HELPER=helper:1\n" +
                "ARG TOOLS\n" +
                "COPY --from=$TOOLS / /\n" +
                "ARG LOCAL=local:1\n" +
                "COPY --from=${LOCAL} / /\n" +
                "ARG HELPER=overridden:9\n" +
                "COPY --from=$HELPER / /\n" +            // ENV wins over an ARG of the same name
                "FROM base\n" +
                "COPY --from=${HELPER} / /\n" +          // ENV is inherited through FROM <stage>
                "COPY --from=${TOOLS:-fallback:1} / /\n"); // ARGs are not

            Assert.Equal(new[]
            {
                "FROM busybox @3", "COPY --from tools:1 @6", "COPY --from local:1 @8", "COPY --from helper:1 @10",
                "COPY --from helper:1 @12", "COPY --from fallback:1 @13",
            }, Uses(info));
        }

        [Fact]
        public void Build_args_override_stage_ARG_defaults()
        {
            var info = Parse("FROM busybox\nARG SRC=default:1\nCOPY --from=$SRC / /\n", new Dictionary<string, string> { ["SRC"] = "given:2" });

            Assert.Equal("given:2", info.ImageUses[1].Reference);
        }

        [Fact]
        public void A_global_ARG_not_redeclared_in_the_stage_is_not_visible()
        {
            var error = Fails("ARG SRC=tools:1\nFROM busybox\nCOPY --from=$SRC / /\n");

            Assert.Equal(3, error.Line);
            Assert.Contains("SRC has no value in this stage", error.Message);
        }

        // ---- expansion

        [Theory]
        [InlineData("FROM ${UNSET:-${B}}\n", "b-value")]
        [InlineData("FROM ${EMPTY:-x}${EMPTY-y}${UNSET-z}\n", "xz")]
        [InlineData("FROM ${A:+alt}${EMPTY:+no}${EMPTY+set}\n", "altset")]
        [InlineData("FROM ${PATHY#*/}\n", "team/app:1.2.3")]
        [InlineData("FROM ${PATHY##*/}\n", "app:1.2.3")]
        [InlineData("FROM ${PATHY%:*}\n", "registry.local/team/app")]
        [InlineData("FROM ${PATHY%%.*}\n", "registry")]
        [InlineData("FROM \"${A}\"'${A}'\n", "a-value${A}")]
        [InlineData("FROM \\$A\n", "$A")]
        [InlineData("FROM a$\n", "a$")]
        [InlineData("FROM \"a\\b\\\"c\"\n", "a\\b\"c")]
        public void Expansion_follows_the_BuildKit_shell_lexer(string from, string expected)
        {
            var info = Parse("ARG A=a-value\nARG B=b-value\nARG EMPTY=\nARG PATHY=registry.local/team/app:1.2.3\n" + from);

            Assert.Equal(expected, info.Stages[0].BaseText);
        }

        [Theory]
        [InlineData("ARG A=x\nFROM ${A\n", "Unterminated '${'")]
        [InlineData("ARG A=x\nFROM ${A:-${B}\n", "Unterminated '${'")]
        [InlineData("FROM ${}\n", "Bad substitution")]
        [InlineData("ARG A=x\nFROM ${A/x/y}\n", "modifier")]
        [InlineData("FROM \"busybox\n", "Unterminated double quote")]
        [InlineData("ARG R\nFROM ${R}/debian\n", "ARG R has no value")]
        [InlineData("FROM debian:${TAG}\n", "TAG is not declared with ARG before the first FROM")]
        [InlineData("FROM golang:1.22-$TARGETARCH\n", "BuildKit sets only when the build runs")]
        public void Expansion_errors_say_what_to_fix(string text, string expected)
        {
            var error = Fails(text);

            Assert.Equal(2 - (text.StartsWith("FROM") ? 1 : 0), error.Line);
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void Platforms_keep_BuildKit_automatic_ARGs_unless_given()
        {
            var info = Parse(
                "ARG TARGETARCH\n" +
                "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n" +
                "FROM --platform=linux/${TARGETARCH} alpine\n" +
                "FROM --platform=${BUILDPLATFORM} busybox\n",
                new Dictionary<string, string> { ["BUILDPLATFORM"] = "linux/arm64" });

            Assert.Equal(new[] { "linux/arm64", "linux/$TARGETARCH", "linux/arm64" }, info.Stages.Select(s => s.Platform).ToArray());
            Assert.Equal("golang:1.22-arm64",
                Parse("FROM golang:1.22-$TARGETARCH\n", new Dictionary<string, string> { ["TARGETARCH"] = "arm64" }).Stages[0].BaseText);
        }

        // ---- targets

        [Fact]
        public void A_target_needs_only_the_stages_it_reads()
        {
            var info = Parse(
                "FROM golang:1.22 AS build\n" +
                "FROM node:20 AS docs\n" +
                "FROM build AS test\n" +
                "RUN --mount=from=tester:1,target=/t go test\n" +
                "FROM alpine AS release\n" +
                "COPY --from=build /out /out\n" +
                "COPY --from=docs /site /site\n" +
                "FROM release AS debug\n" +
                "COPY --from=busybox:1.36 /bin/busybox /bin/\n");

            string[] Refs(string? target) => info.ImageUsesFor(target).Select(u => u.Reference).ToArray();
            Assert.Equal(new[] { "golang:1.22", "node:20", "alpine", "busybox:1.36" }, Refs(null));
            Assert.Equal(new[] { "golang:1.22", "tester:1" }, Refs("TEST"));
            Assert.Equal(new[] { "golang:1.22", "node:20", "alpine" }, Refs("release"));
            Assert.Equal(new[] { "node:20" }, Refs("1"));
            Assert.Equal("golang:1.22", info.BaseImageOf(info.FindStage("test")!)!.Reference);
            Assert.Equal("alpine", info.FinalBase!.Reference);
            Assert.Null(info.FindStage("nope"));
            var error = Assert.Throws<ImageToolsException>(() => info.ImageUsesFor("nope"));
            Assert.Equal("DockerfileUnknownTarget", error.ErrorId);
            Assert.Contains("build, docs, test, release, debug", error.Message);
        }

        [Fact]
        public void Scratch_has_no_base_image()
        {
            var info = Parse("FROM scratch AS empty\nFROM empty\nCOPY --from=busybox:1.36 /bin/busybox /busybox\n");

            Assert.Null(info.FinalBase);
            Assert.Equal(new[] { "COPY --from busybox:1.36 @3" }, Uses(info));
        }
    }
}
