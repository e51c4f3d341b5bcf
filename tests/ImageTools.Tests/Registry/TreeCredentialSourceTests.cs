using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>The tree registry's login from the environment (CI secrets) or imagetools.yaml/config.yaml, for that registry only.</summary>
    public class TreeCredentialSourceTests : IClassFixture<AuthRegistriesFixture>
    {
        private const string Registry = "registry.example.org:5000";
        private static readonly IRegistryCredentialSource Fallback = new ExplicitCredentialSource("from-docker-config", "fallback-secret", "config.json");
        private readonly AuthRegistriesFixture _fixture;

        public TreeCredentialSourceTests(AuthRegistriesFixture fixture) => _fixture = fixture;

        private static Func<string, string?> Environment(params (string Name, string Value)[] variables)
        {
            var values = new Dictionary<string, string>();
            foreach (var (name, value) in variables) values[name] = value;
            return name => values.TryGetValue(name, out var value) ? value : null;
        }

        private static async Task<RegistryCredential?> For(string registry, TreeCredentialSource? source) =>
            source == null ? null : await source.GetAsync(registry, null, CancellationToken.None);

        [Fact]
        public async Task The_configs_username_and_password_log_in_to_the_trees_registry_only()
        {
            var source = TreeCredentialSource.For(Registry, "deployer", "pa55 with spaces", "/tree/config.yaml", Environment(), Fallback);

            var own = await For(Registry, source);
            var other = await For("docker.io", source);

            Assert.Equal(("deployer", "pa55 with spaces"), (own!.UserName, own.Secret));
            Assert.Equal("user 'deployer' from /tree/config.yaml (username, password)", own.Description);
            Assert.Equal("from-docker-config", other!.UserName);
        }

        [Fact]
        public async Task The_environment_comes_before_the_config_and_DOCKER_LOGIN_names_its_registry()
        {
            var variables = Environment(("DOCKER_LOGIN", "other.example.org someone nope\n" + Registry + " ci-user s3cret with spaces"));
            var fromLogin = await For(Registry, TreeCredentialSource.For(Registry, "deployer", "from-config", "/tree/imagetools.yaml", variables, Fallback));
            var fromVariables = await For(Registry, TreeCredentialSource.For(Registry, "deployer", "from-config", "/tree/imagetools.yaml",
                Environment(("DOCKER_LOGIN", Registry + " ci-user x"), ("IMAGETOOLS_REGISTRY_USERNAME", "robot"), ("IMAGETOOLS_REGISTRY_PASSWORD", "token")), Fallback));

            Assert.Equal(("ci-user", "s3cret with spaces", "$DOCKER_LOGIN"), (fromLogin!.UserName, fromLogin.Secret, fromLogin.Origin));
            Assert.Equal(("robot", "token"), (fromVariables!.UserName, fromVariables.Secret));
        }

        [Fact]
        public void Nothing_configured_leaves_Dockers_configuration_alone()
        {
            Assert.Null(TreeCredentialSource.For(Registry, null, null, "/tree/imagetools.yaml", Environment(), Fallback));
            Assert.Null(TreeCredentialSource.For(null, "deployer", "x", "/tree/imagetools.yaml", Environment(), Fallback));
        }

        /// <summary>docker_build logs in to every registry a DOCKER_LOGIN line names: an extra repository's registry gets its own line.</summary>
        [Fact]
        public async Task DOCKER_LOGIN_lines_of_other_registries_log_in_there_and_only_there()
        {
            var source = TreeCredentialSource.For(Registry, "deployer", "from-config", "/tree/imagetools.yaml",
                Environment(("DOCKER_LOGIN", "mirror.example.org:5000 mirror-user mirror secret\nhttps://ghcr.io/ gh-user gh-token")), Fallback);

            Assert.Equal(("deployer", "from-config"), ((await For(Registry, source))!.UserName, (await For(Registry, source))!.Secret));
            Assert.Equal(("mirror-user", "mirror secret"), ((await For("mirror.example.org:5000", source))!.UserName, (await For("mirror.example.org:5000", source))!.Secret));
            Assert.Equal("gh-user", (await For("ghcr.io", source))!.UserName);
            Assert.Equal("from-docker-config", (await For("docker.io", source))!.UserName);
            Assert.DoesNotContain("secret", source!.ToString());
            Assert.DoesNotContain("gh-token", source.ToString());

            // Without a tree registry (a local tree) the lines still apply to the registries they name.
            var local = TreeCredentialSource.For(null, null, null, "/tree/imagetools.yaml", Environment(("DOCKER_LOGIN", "other.example.org a b")), Fallback);
            Assert.Equal("a", (await For("other.example.org", local))!.UserName);
        }

        [Fact]
        public void The_config_reads_username_and_password_and_never_shows_the_password()
        {
            var config = TreeConfig.Parse("registry: " + Registry + "\nusername: deployer\npassword: hunter2-never-shown\n", "/tree/config.yaml");
            var source = TreeCredentialSource.For(config.Registry, config.UserName, config.Password, config.FilePath!, Environment(), Fallback);

            Assert.Equal("deployer", config.UserName);
            Assert.DoesNotContain("hunter2", source!.ToString());
            Assert.DoesNotContain("hunter2", config.ToString());
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_registry_with_Basic_auth_accepts_the_trees_login()
        {
            var server = _fixture.Basic;
            var source = TreeCredentialSource.For(server.Address, RegistryServer.User, RegistryServer.Password, "/tree/imagetools.yaml", Environment(),
                AnonymousCredentialSource.Instance);
            using var client = new RegistryClient(server.Address, new RegistryClientOptions { Credentials = source });

            var ping = await client.PingAsync();

            Assert.True(ping.Authenticated);
        }
    }
}
