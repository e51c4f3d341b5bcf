using System.Collections.Generic;
using System.Linq;
using ImageTools.Formats.Dockerfiles;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class DockerfileParserTests
    {
        private static DockerfileInfo Parse(string text, Dictionary<string, string>? args = null) =>
            DockerfileParser.Parse(text, "/t/Dockerfile", args);

        private static string[] Uses(DockerfileInfo info) => info.ImageUses.Select(u => $"{u.Instruction} {u.Reference} @{u.Line}").ToArray();

        [Fact]
        public void Multi_stage_builds_separate_stages_from_images()
        {
            var info = Parse(
                "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n" +
                "RUN go build\n" +
                "FROM build as test\n" +
                "COPY --from=nginx:1.25 /etc/nginx /etc/nginx\n" +
                "COPY --from=BUILD /out /out\n" +
                "COPY --from=0 /a /a\n" +
                "FROM scratch\n" +
                "COPY --chown=1:1 --from=test /out /out\n");

            Assert.Equal(new[] { "FROM golang:1.22 @1", "COPY --from nginx:1.25 @4" }, Uses(info));
            Assert.Equal(3, info.Stages.Count);
            Assert.Equal(0, info.Stages[1].BaseStageIndex);
            Assert.Equal("build", info.Stages[0].Alias);
            Assert.Equal("$BUILDPLATFORM", info.Stages[0].Platform);
            Assert.Null(info.FinalBase);
        }

        [Fact]
        public void The_final_base_follows_stage_aliases_back_to_an_image()
        {
            var info = Parse("FROM debian:bookworm AS os\nFROM os AS with-tools\nRUN x\nFROM with-tools\n");

            Assert.Equal("debian:bookworm", info.FinalBase!.Reference);
            Assert.Equal(1, info.FinalBase.Line);
        }

        [Fact]
        public void Global_args_expand_FROM_and_build_args_override_defaults()
        {
            const string text = "ARG REGISTRY=docker.io\nARG NAME=debian TAG=bookworm\nARG EMPTY\n" +
                                "FROM ${REGISTRY}/library/$NAME:${TAG}${EMPTY}\n" +
                                "FROM ${MISSING:-busybox}:${TAG:+1.36}\n" +
                                "FROM ${EMPTY-alpine}\n";

            Assert.Equal(new[] { "FROM docker.io/library/debian:bookworm @4", "FROM busybox:1.36 @5", "FROM alpine @6" }, Uses(Parse(text)));
            var overridden = Parse(text, new Dictionary<string, string> { ["TAG"] = "trixie", ["UNDECLARED"] = "x" });
            Assert.Equal("docker.io/library/debian:trixie", overridden.ImageUses[0].Reference);
            Assert.Equal(new Dictionary<string, string?> { ["REGISTRY"] = "docker.io", ["NAME"] = "debian", ["TAG"] = "bookworm", ["EMPTY"] = null },
                Parse(text).GlobalArgs);
        }

        [Fact]
        public void Stage_args_only_see_globals_when_redeclared()
        {
            var info = Parse(
                "ARG SRC=tools:1\n" +
                "FROM busybox\n" +
                "ARG SRC\n" +
                "COPY --from=${SRC} /b /b\n" +
                "ENV OTHER=helper:2\n" +
                "RUN --mount=type=bind,from=$OTHER,target=/h --mount=type=cache,target=/c make\n");

            Assert.Equal(new[] { "FROM busybox @2", "COPY --from tools:1 @4", "RUN --mount helper:2 @6" }, Uses(info));
        }

        [Fact]
        public void Continuations_comments_and_directives_do_not_confuse_it()
        {
            var info = Parse(
                "# syntax=docker/dockerfile:1\n" +
                "# escape=\\\n" +
                "\n" +
                "# FROM commented:out\n" +
                "FROM \\\n" +
                "  # a comment inside the continuation\n" +
                "\n" +
                "  busybox:1.36 \\\n" +
                "  AS base\n" +
                "RUN echo '# not a comment' \\\n" +
                "    && echo FROM fake:image\n" +
                "   from base\n");

            Assert.Equal(new[] { "FROM busybox:1.36 @5" }, Uses(info));
            Assert.Equal(2, info.Stages.Count);
            Assert.Equal(12, info.Stages[1].Line);
        }

        [Fact]
        public void The_backtick_escape_directive_works_for_Windows_Dockerfiles()
        {
            var info = Parse("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS build\nRUN dir c:\\\nFROM build\n");

            Assert.Equal(new[] { "FROM mcr.microsoft.com/windows/servercore:ltsc2022 @2" }, Uses(info));
            Assert.Equal(0, info.Stages[1].BaseStageIndex);
        }

        [Fact]
        public void Heredoc_bodies_are_not_instructions()
        {
            var info = Parse(
                "FROM busybox AS a\n" +
                "RUN <<EOF\nFROM fake:1\nCOPY --from=fake:2 / /\nEOF\n" +
                "COPY <<-'CONF' /etc/app.conf\n\tFROM fake:3\n\tCONF\n" +
                "RUN <<one cat > /x && <<\"two\" cat > /y\nFROM fake:4\none\nFROM fake:5\ntwo\n" +
                "RUN echo \"<<NOTHEREDOC\"\n" +
                "FROM alpine\n");

            Assert.Equal(new[] { "FROM busybox @1", "FROM alpine @15" }, Uses(info));
        }

        [Theory]
        [InlineData("", null, "no FROM")]
        [InlineData("# only a comment\n", null, "no FROM")]
        [InlineData("RUN echo\nFROM a\n", 1, "before the first FROM")]
        [InlineData("FROM\n", 1, "names no image")]
        [InlineData("FROM a b c d\n", 1, "one image")]
        [InlineData("ARG BASE\nFROM ${BASE}\n", 2, "ARG BASE has no value")]
        [InlineData("FROM a\nRUN <<EOF\necho\n", 2, "never closed")]
        [InlineData("FROM ${BASE\n", 1, "Unterminated")]
        [InlineData("FROM ${BASE:?required}\n", 1, "required")]
        [InlineData("ARG SRC=x\nFROM a\nCOPY --from=${SRC} /a /a\n", 3, "names nothing")]
        [InlineData("# escape=x\nFROM a\n", 1, "escape")]
        public void Bad_Dockerfiles_name_the_line(string text, int? line, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => Parse(text));

            Assert.Equal("DockerfileSyntaxError", error.ErrorId);
            Assert.Equal("/t/Dockerfile", error.FilePath);
            Assert.Equal(line, error.Line);
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void Quotes_and_escapes_in_values()
        {
            var info = Parse("ARG A=\"busy\"'box'\nARG B=\\$x\nFROM $A\nFROM ${A}:'$B'\n");

            Assert.Equal(new[] { "FROM busybox @3", "FROM busybox:$B @4" }, Uses(info));
        }
    }
}
