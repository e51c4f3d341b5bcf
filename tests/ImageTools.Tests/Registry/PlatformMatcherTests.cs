using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    public class PlatformMatcherTests
    {
        [Theory]
        [InlineData("linux/amd64", "linux/amd64", true)]
        [InlineData("linux/amd64", "linux/x86_64", true)]
        [InlineData("linux/arm64", "linux/arm64/v8", true)]
        [InlineData("linux/arm64/v8", "linux/aarch64", true)]
        [InlineData("linux/arm/v7", "linux/arm/v7", true)]
        [InlineData("linux/arm", "linux/arm/v6", true)]
        [InlineData("linux/arm/v7", "linux/arm/v6", false)]
        [InlineData("linux/arm/v7", "linux/arm", false)]
        [InlineData("linux/s390x", "linux/amd64", false)]
        [InlineData("windows/amd64", "linux/amd64", false)]
        public void An_image_serves_a_wanted_platform_when_os_architecture_and_any_wanted_variant_agree(string wanted, string actual, bool matches)
        {
            Assert.Equal(matches, PlatformMatcher.Matches(ImagePlatform.TryParse(wanted)!, ImagePlatform.TryParse(actual)!));
        }
    }
}
