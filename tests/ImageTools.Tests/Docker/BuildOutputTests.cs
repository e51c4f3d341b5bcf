using ImageTools.Engines;
using Xunit;

namespace ImageTools.Tests.Docker
{
    public class BuildOutputTests
    {
        [Theory]
        [InlineData("Step 2/4 : RUN make", true)]                  // classic builder
        [InlineData("STEP 2/4: RUN make", true)]                   // buildah (Podman)
        [InlineData("[1/2] STEP 3/3: RUN echo hi > /greeting", true)]  // buildah, multi-stage
        [InlineData("#7 [2/4] RUN make", true)]                    // BuildKit, plain progress
        [InlineData(" ---> Running in 0123abcd", false)]
        [InlineData("--> 8b968973991", false)]
        [InlineData("#7 DONE 0.1s", false)]
        [InlineData("make: Step 2/4 : not a step", false)]
        public void Tells_step_lines_from_the_rest(string line, bool step) => Assert.Equal(step, BuildOutput.IsStep(line));
    }
}
