using System;
using System.Net;
using System.Net.Http;
using Xunit;

namespace ImageTools.Tests.Integration
{
    [Collection(DockerCollection.Name)]
    public class ServicesSmokeTests
    {
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void The_engine_answers()
        {
            var version = DockerServices.Docker("version", "--format", "{{.Server.Version}}");

            Assert.Matches(@"^\d+\.\d+", version.Trim());
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void The_services_are_on_loopback_only()
        {
            DockerServices.Require();

            Assert.StartsWith("unix://", DockerServices.DockerHost);
            var host = DockerServices.RegistryAddress!.Substring(0, DockerServices.RegistryAddress.LastIndexOf(':')).Trim('[', ']');
            Assert.True(IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address),
                $"IMAGETOOLS_TEST_REGISTRY must be a loopback address, not {DockerServices.RegistryAddress}");
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void The_registry_answers_the_distribution_API()
        {
            DockerServices.Require();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            using var response = http.GetAsync($"http://{DockerServices.RegistryAddress}/v2/").Result;

            Assert.True(response.IsSuccessStatusCode, $"GET /v2/ answered {(int)response.StatusCode}");
            Assert.Contains("registry/2.0", string.Join(",", response.Headers.GetValues("Docker-Distribution-API-Version")));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_image_survives_a_push_and_pull_round_trip()
        {
            var reference = $"{DockerServices.RegistryAddress}/smoke/busybox:{Guid.NewGuid():N}";
            DockerServices.Docker("tag", "busybox:1.36", reference);
            DockerServices.Docker("push", reference);
            DockerServices.Docker("rmi", reference);

            DockerServices.Docker("pull", reference);
            var output = DockerServices.Docker("run", "--rm", "--pull", "never", "--network", "none", reference, "echo", "ok");

            Assert.Equal("ok", output.Trim());
            DockerServices.Docker("rmi", reference);
        }
    }
}
