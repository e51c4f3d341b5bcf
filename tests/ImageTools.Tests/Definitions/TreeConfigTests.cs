using System;
using System.Collections.Generic;
using ImageTools.Definitions;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class TreeConfigTests
    {
        [Fact]
        public void Reads_typed_settings_and_keeps_every_key_as_a_template_variable()
        {
            var config = TreeConfig.Parse(
                "registry: registry.example.org:5000\n" +
                "namespace: team/images\n" +
                "build_args:\n  HTTP_PROXY: http://proxy:3128\n" +
                "base_images: [debian:bookworm, busybox:1.36]\n" +
                "parallelism: 4\n" +
                "update_id: sec\n" +
                "seed_image: debian:bookworm\n", "/t/imagetools.yaml");

            Assert.Equal("registry.example.org:5000", config.Registry);
            Assert.Equal("team/images", config.Namespace);
            Assert.Equal("http://proxy:3128", config.BuildArgs["HTTP_PROXY"]);
            Assert.Equal(new[] { "debian:bookworm", "busybox:1.36" }, config.BaseImages);
            Assert.Equal(4, config.Parallelism);
            Assert.Equal("sec", config.UpdateId);
            Assert.Equal("debian:bookworm", config.Variables["seed_image"]);
            Assert.Equal("registry.example.org:5000", config.Variables["registry"]);
        }

        [Fact]
        public void Defaults_follow_docker_pkg()
        {
            var config = TreeConfig.Parse("", "/t/config.yaml");

            Assert.Null(config.Registry);
            Assert.Equal("s", config.UpdateId);
            Assert.Equal("", config.Variables["apt_options"]);
            Assert.IsAssignableFrom<IDictionary<string, object?>>(config.Variables["known_uid_mappings"]);
        }

        [Theory]
        [InlineData("update_id: ''\n", "")]
        [InlineData("update_id:\n", "")]
        [InlineData("update_id: ~\n", "")]
        [InlineData("distribution: x\n", "s")]
        public void An_empty_update_id_means_none_as_in_docker_pkg(string yaml, string expected) =>
            Assert.Equal(expected, TreeConfig.Parse(yaml, "/t/config.yaml").UpdateId);

        [Fact]
        public void Malformed_yaml_names_the_line()
        {
            var error = Assert.Throws<ImageToolsException>(() =>
                TreeConfig.Parse("registry: a\nbuild_args:\n  X: [unclosed\nnamespace: b\n", "/t/imagetools.yaml"));

            Assert.Equal("InvalidYaml", error.ErrorId);
            Assert.Equal("/t/imagetools.yaml", error.FilePath);
            Assert.NotNull(error.Line);
            Assert.InRange(error.Line!.Value, 3, 5);
            Assert.StartsWith("/t/imagetools.yaml:", error.Message);
        }

        [Fact]
        public void A_wrongly_shaped_value_names_its_line()
        {
            var error = Assert.Throws<ImageToolsException>(() =>
                TreeConfig.Parse("registry: a.example\nbuild_args: [A, B]\n", "/t/imagetools.yaml"));

            Assert.Equal("InvalidSetting", error.ErrorId);
            Assert.Equal(2, error.Line);
            Assert.Contains("build_args", error.Message);
        }

        [Theory]
        [InlineData("parallelism: 0\n", "parallelism")]
        [InlineData("parallelism: many\n", "whole number")]
        [InlineData("namespace: Team\n", "namespace")]
        [InlineData("registry: 'not a host'\n", "registry")]
        [InlineData("registry_timeout: 0\n", "'registry_timeout' must be a number of seconds from 1 to 3600")]
        [InlineData("registry_timeout: 3601\n", "registry_timeout")]
        [InlineData("registry_timeout: soon\n", "whole number")]
        public void Bad_values_are_rejected_with_the_key_named(string yaml, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => TreeConfig.Parse(yaml, "/t/imagetools.yaml"));

            Assert.Contains(expected, error.Message);
            Assert.Equal(1, error.Line);
            Assert.Equal("InvalidSetting", error.ErrorId);
        }

        [Theory]
        [InlineData("registry_timeout: 5\n", null, 5)]        // the key when no -TimeoutSec is given
        [InlineData("registry_timeout: 5\n", 9, 9)]           // -TimeoutSec wins over the key
        [InlineData("registry: a.example\n", null, 60)]       // neither: the default
        [InlineData("registry: a.example\n", 2, 2)]
        public void The_registry_timeout_is_the_parameter_else_the_key_else_60_seconds(string yaml, int? parameter, int expected)
        {
            var config = TreeConfig.Parse(yaml, "/t/imagetools.yaml");

            var options = ImageTools.Planning.TreeRegistryOptions.For(config, credentials: null, timeoutSec: parameter);

            Assert.Equal(TimeSpan.FromSeconds(expected), options.RequestTimeout);
        }
    }

    public class ImageSpecTests
    {
        [Fact]
        public void Reads_every_key()
        {
            var spec = ImageSpec.Parse(
                "name: worker\nversion: '1.0'\ntags: [stable, v1]\nbuild_args: {A: '1'}\ntarget: runtime\n" +
                "platforms: [linux/arm64]\ndockerfile: docker/Dockerfile\ncontext: ..\n" +
                "verify_command: /bin/sh\nverify_args: ['-c', 'true']\ndepends: [base]\nlabels: {team: ops}\n", "/t/w/image.yaml");

            Assert.Equal("worker", spec.Name);
            Assert.Equal("1.0", spec.Version);
            Assert.Equal(new[] { "stable", "v1" }, spec.Tags);
            Assert.Equal("1", spec.BuildArgs["A"]);
            Assert.Equal("runtime", spec.Target);
            Assert.Equal(new[] { "linux/arm64" }, spec.Platforms);
            Assert.Equal("docker/Dockerfile", spec.Dockerfile);
            Assert.Equal(7, spec.DockerfileLine);
            Assert.Equal("..", spec.Context);
            Assert.Equal(new[] { "-c", "true" }, spec.VerifyArgs);
            Assert.Equal(new[] { "base" }, spec.Depends);
            Assert.Equal("ops", spec.Labels["team"]);
        }

        [Fact]
        public void More_than_one_platform_is_an_error_naming_the_line_and_what_to_do()
        {
            var error = Assert.Throws<ImageToolsException>(() => ImageSpec.Parse("name: a\nplatforms: [linux/amd64, linux/arm64]\n", "/t/a/image.yaml"));

            Assert.Equal("/t/a/image.yaml", error.FilePath);
            Assert.Equal(2, error.Line);
            Assert.Contains("List one platform", error.Message);
            Assert.Contains("merges them", error.Message);
        }

        [Fact]
        public void An_unknown_key_is_an_error_listing_the_known_ones()
        {
            var error = Assert.Throws<ImageToolsException>(() => ImageSpec.Parse("name: a\nbuildargs: {}\n", "/t/a/image.yaml"));

            Assert.Equal(2, error.Line);
            Assert.Contains("'buildargs'", error.Message);
            Assert.Contains("build_args", error.Message);
        }

        [Fact]
        public void Malformed_yaml_names_file_and_line()
        {
            var error = Assert.Throws<ImageToolsException>(() => ImageSpec.Parse("name: a\ntags:\n  - x\n - y\n", "/t/a/image.yaml"));

            Assert.Equal("InvalidYaml", error.ErrorId);
            Assert.Equal("/t/a/image.yaml", error.FilePath);
            Assert.InRange(error.Line ?? 0, 3, 4);
        }
    }
}
