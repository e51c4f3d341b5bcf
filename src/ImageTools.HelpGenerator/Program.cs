using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;

namespace ImageTools.HelpGenerator
{
    /// <summary>ImageTools.HelpGenerator OUTPUT.xml — writes the MAML help of ImageTools.Commands.</summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            if (args.Length != 1)
            {
                Console.Error.WriteLine("usage: ImageTools.HelpGenerator <output ImageTools.Commands.dll-Help.xml>");
                return 2;
            }
            var assembly = typeof(ImageTools.Commands.GetImageGraphCommand).Assembly;
            var docs = XDocument.Load(Path.ChangeExtension(assembly.Location, ".xml"));
            var cmdlets = MamlWriter.Read(assembly, docs);
            var missing = cmdlets.SelectMany(c => (string.IsNullOrEmpty(c.Synopsis) ? new[] { c.Name } : Array.Empty<string>())
                .Concat(c.Parameters.Where(p => p.Description.Length == 0).Select(p => $"{c.Name} -{p.Name}"))).ToList();
            if (missing.Count > 0)
            {
                Console.Error.WriteLine("Help is missing for: " + string.Join(", ", missing));
                return 1;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0]))!);
            MamlWriter.Write(cmdlets).Save(args[0]);
            Console.WriteLine($"Help for {cmdlets.Count} cmdlets written to {args[0]}");
            return 0;
        }
    }
}
