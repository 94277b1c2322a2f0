using System.CommandLine;
using Fp6.Cli;

var root = new RootCommand("fp6: serve Llama-family models with FP6 weights through ONNX Runtime.")
{
    ConvertCommand.Create(),
    ChatCommand.Create(),
};
return root.Parse(args).Invoke();
