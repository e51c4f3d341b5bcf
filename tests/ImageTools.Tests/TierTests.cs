using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ImageTools.Tests.Integration;
using ImageTools.Tests.Registry;
using Xunit;

namespace ImageTools.Tests
{
    /// <summary>Keeps the two tiers apart mechanically, and the service promise one rule.</summary>
    public class TierTests
    {
        private static readonly Type[] ServiceAttributes =
            { typeof(DockerFactAttribute), typeof(DockerTheoryAttribute), typeof(RegistryFactAttribute), typeof(TinyDiskFactAttribute) };

        private static IEnumerable<MethodInfo> TestMethods() =>
            typeof(TierTests).Assembly.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                .Where(m => m.GetCustomAttributes<FactAttribute>().Any());

        // TraitAttribute keeps its name and value only as constructor arguments, so they are read as attribute data.
        private static bool IsIntegrationByData(MethodInfo method) =>
            method.CustomAttributes.Concat(method.DeclaringType!.CustomAttributes)
                .Where(a => a.AttributeType == typeof(TraitAttribute))
                .Any(a => (string?)a.ConstructorArguments[0].Value == TestCategory.Name && (string?)a.ConstructorArguments[1].Value == TestCategory.Integration);

        private static bool NeedsServices(MethodInfo method) =>
            method.GetCustomAttributes<FactAttribute>().Any(a => ServiceAttributes.Contains(a.GetType()))
            || method.DeclaringType!.Namespace == typeof(DockerServices).Namespace
            || method.DeclaringType.CustomAttributes.Any(a => a.AttributeType == typeof(CollectionAttribute) && (string?)a.ConstructorArguments[0].Value == DockerCollection.Name);

        [Fact]
        public void Every_test_that_needs_a_service_carries_the_Integration_trait()
        {
            var untagged = TestMethods().Where(NeedsServices).Where(m => !IsIntegrationByData(m))
                .Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToList();

            Assert.True(untagged.Count == 0,
                $"Add [Trait(TestCategory.Name, TestCategory.Integration)] to: {string.Join(", ", untagged)}");
            // The rule has something to hold: the service tests are found (64 when this was written).
            Assert.True(TestMethods().Count(NeedsServices) >= 60);
        }

        [Fact]
        public void The_fast_tier_keeps_most_tests()
        {
            var all = TestMethods().ToList();
            var fast = all.Count(m => !IsIntegrationByData(m));
            Assert.True(fast > all.Count / 2, $"{fast} of {all.Count} tests are in the fast tier.");
            Assert.Contains(all, m => m.DeclaringType == typeof(Building.ImageBuilderRuleTests) && !IsIntegrationByData(m));
        }

        [Theory]
        [InlineData(null, null, null, false)]
        [InlineData("", "", "", false)]
        [InlineData("false", null, null, false)]
        [InlineData("False", "FALSE", null, false)]
        [InlineData("0", "0", null, false)]
        [InlineData("true", null, null, true)]
        [InlineData("1", null, null, true)]
        [InlineData("yes", null, null, true)]
        [InlineData(null, "True", null, true)]
        [InlineData("false", "True", null, true)]
        [InlineData(null, null, "unix:///tmp/svc/docker.sock", true)]
        [InlineData("0", "false", "unix:///tmp/svc/docker.sock", true)]
        public void Services_are_promised_by_CI_or_TF_BUILD_not_off_or_by_a_test_docker_host(string? ci, string? tfBuild, string? dockerHost, bool promised)
        {
            var environment = new Dictionary<string, string?> { ["CI"] = ci, ["TF_BUILD"] = tfBuild, ["IMAGETOOLS_TEST_DOCKER_HOST"] = dockerHost };

            Assert.Equal(promised, ServicePromise.IsPromised(name => environment.TryGetValue(name, out var value) ? value : "unexpected"));
        }

        [Fact]
        public void No_service_test_decides_the_promise_on_its_own()
        {
            var sources = System.IO.Directory.GetFiles(RepoPaths.Of("tests/ImageTools.Tests"), "*.cs", System.IO.SearchOption.AllDirectories)
                .Where(f => !f.Contains(System.IO.Path.DirectorySeparatorChar + "obj" + System.IO.Path.DirectorySeparatorChar)
                    && !f.EndsWith("ServicePromise.cs", StringComparison.Ordinal) && !f.EndsWith("TierTests.cs", StringComparison.Ordinal));
            var offenders = sources.Where(f => System.Text.RegularExpressions.Regex.IsMatch(System.IO.File.ReadAllText(f),
                "GetEnvironmentVariable\\(\"(CI|TF_BUILD)\"\\)")).ToList();
            Assert.Empty(offenders);
        }
    }
}
