using System.Linq;
using System.Management.Automation;
using System.Reflection;
using ImageTools.Commands;
using Xunit;

namespace ImageTools.Tests.Commands
{
    public class CmdletBaseTests
    {
        private static readonly System.Type[] Cmdlets = typeof(ImageToolsCmdlet).Assembly.GetTypes()
            .Where(t => t.GetCustomAttributes<CmdletAttribute>().Any()).ToArray();

        [Fact]
        public void Every_cmdlet_stops_and_translates_errors_through_the_one_base_class()
        {
            Assert.Equal(9, Cmdlets.Length);   // Copy-Image is the ninth
            Assert.All(Cmdlets, t => Assert.Equal(typeof(ImageToolsCmdlet), t.BaseType));
            // None keeps a stop of its own: one token, cancelled in one place.
            Assert.All(Cmdlets, t => Assert.Equal(typeof(ImageToolsCmdlet),
                t.GetMethod("StopProcessing", BindingFlags.Instance | BindingFlags.NonPublic)!.DeclaringType));
            Assert.All(Cmdlets, t => Assert.DoesNotContain(t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic),
                f => f.FieldType == typeof(System.Threading.CancellationTokenSource)));
        }
    }
}
