using System.Globalization;
using System.Text;

namespace Fp6.Runtime.Models.Templates;

/// <summary>
/// Walks the syntax tree and writes the output. Scoping follows Jinja: <c>{% set %}</c> writes to the current scope;
/// each loop iteration runs in a fresh scope, so assignments inside a loop are gone after it (and from one iteration
/// to the next) — that is what <c>namespace()</c> exists for; <c>if</c> opens no scope.
/// </summary>
internal sealed class TemplateRenderer
{
    /// <summary>The sandbox's cap on range(), which also bounds loops over it.</summary>
    private const int MaxRange = 100_000;

    private const int MaxMacroDepth = 200;

    private readonly string _source;
    private readonly Func<DateTime> _clock;
    private int _macroDepth;

    internal TemplateRenderer(string source, Func<DateTime> clock)
    {
        _source = source;
        _clock = clock;
    }

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    /// <summary>A variable scope chained to its enclosing one.</summary>
    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

        internal bool TryGet(string name, out object? value)
        {
            for (Scope? scope = this; scope is not null; scope = scope.Parent)
            {
                if (scope._variables.TryGetValue(name, out value))
                {
                    return true;
                }
            }
            value = null;
            return false;
        }

        internal void Set(string name, object? value) => _variables[name] = value;

        private Scope? Parent => parent;
    }

    internal string Render(IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, object?> variables)
    {
        var globals = new Scope(null);
        globals.Set("range", new TemplateFunction("range", (a, k) => Range(new TemplateArguments("range", a, k))));
        globals.Set("namespace", new TemplateFunction("namespace", (a, k) => MakeNamespace(a, k)));
        globals.Set("dict", new TemplateFunction("dict", (_, k) => new Dictionary<string, object?>(k, StringComparer.Ordinal)));
        globals.Set("raise_exception", new TemplateFunction("raise_exception", (a, _) =>
            throw new ChatTemplateException(a.Count > 0 ? TemplateValues.ToText(a[0]) : "raise_exception() called", raisedByTemplate: true)));
        globals.Set("strftime_now", new TemplateFunction("strftime_now", (a, k) =>
            Strftime.Format(_clock(), new TemplateArguments("strftime_now", a, k).GetString(0, "format") ?? "")));

        var top = new Scope(globals);
        foreach ((string name, object? value) in variables)
        {
            top.Set(name, TemplateValues.FromClr(value));
        }
        var output = new StringBuilder();
        RenderNodes(nodes, top, output, loopDepth: 0);
        return output.ToString();
    }

    private Flow RenderNodes(IReadOnlyList<Node> nodes, Scope scope, StringBuilder output, int loopDepth)
    {
        foreach (Node node in nodes)
        {
            try
            {
                Flow flow = RenderNode(node, scope, output, loopDepth);
                if (flow != Flow.Normal)
                {
                    return flow;
                }
            }
            catch (ChatTemplateException ex) when (!ex.RaisedByTemplate && !ex.HasLocation)
            {
                throw new ChatTemplateException($"{ex.Message} ({TemplateLexer.Describe(_source, node.Offset)})", innerException: ex) { HasLocation = true };
            }
        }
        return Flow.Normal;
    }

    private Flow RenderNode(Node node, Scope scope, StringBuilder output, int loopDepth)
    {
        switch (node)
        {
            case TextNode text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputNode print:
                output.Append(TemplateValues.ToText(Evaluate(print.Expression, scope)));
                return Flow.Normal;
            case IfNode conditional:
                foreach ((Expr condition, IReadOnlyList<Node> body) in conditional.Branches)
                {
                    if (TemplateValues.IsTruthy(Evaluate(condition, scope)))
                    {
                        return RenderNodes(body, scope, output, loopDepth);
                    }
                }
                return conditional.Else is null ? Flow.Normal : RenderNodes(conditional.Else, scope, output, loopDepth);
            case ForNode loop:
                RenderFor(loop, scope, output, loopDepth);
                return Flow.Normal;
            case SetNode assignment:
                Assign(assignment, scope);
                return Flow.Normal;
            case MacroNode macro:
                scope.Set(macro.Name, MakeMacro(macro, scope));
                return Flow.Normal;
            case LoopControlNode control:
                return loopDepth > 0
                    ? (control.IsBreak ? Flow.Break : Flow.Continue)
                    : throw new ChatTemplateException($"'{{% {(control.IsBreak ? "break" : "continue")} %}}' outside a for loop");
            default:
                throw new InvalidOperationException($"unknown node {node.GetType().Name}");
        }
    }

    private void RenderFor(ForNode loop, Scope scope, StringBuilder output, int loopDepth)
    {
        List<object?> items = TemplateValues.Iterate(Evaluate(loop.Iterable, scope));
        if (loop.Filter is not null)
        {
            items = items.Where(item =>
            {
                var filterScope = new Scope(scope);
                Bind(loop.Targets, item, filterScope);
                return TemplateValues.IsTruthy(Evaluate(loop.Filter, filterScope));
            }).ToList();
        }
        if (items.Count == 0)
        {
            if (loop.Else is not null)
            {
                RenderNodes(loop.Else, scope, output, loopDepth);
            }
            return;
        }

        var context = new LoopContext(items);
        for (int i = 0; i < items.Count; i++)
        {
            var iteration = new Scope(scope);
            Bind(loop.Targets, items[i], iteration);
            context.Index0 = i;
            iteration.Set("loop", context);
            if (RenderNodes(loop.Body, iteration, output, loopDepth + 1) == Flow.Break)
            {
                break;
            }
        }
    }

    private void Assign(SetNode assignment, Scope scope)
    {
        object? value = Evaluate(assignment.Value, scope);
        if (assignment.Attribute is null)
        {
            Bind(assignment.Targets, value, scope);
            return;
        }
        string target = assignment.Targets[0];
        if (!scope.TryGet(target, out object? holder) || holder is not Namespace ns)
        {
            throw new ChatTemplateException($"cannot assign attribute on non-namespace object '{target}'");
        }
        ns.Attributes[assignment.Attribute] = value;
    }

    private static void Bind(IReadOnlyList<string> targets, object? value, Scope scope)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], value);
            return;
        }
        List<object?> values = TemplateValues.Iterate(value);
        if (values.Count != targets.Count)
        {
            throw new ChatTemplateException($"cannot unpack {values.Count} values into {targets.Count} names ({string.Join(", ", targets)})");
        }
        for (int i = 0; i < targets.Count; i++)
        {
            scope.Set(targets[i], values[i]);
        }
    }

    private TemplateFunction MakeMacro(MacroNode macro, Scope definitionScope) =>
        new(macro.Name, (arguments, keywords) =>
        {
            if (arguments.Count > macro.Parameters.Count)
            {
                throw new ChatTemplateException($"macro '{macro.Name}' takes {macro.Parameters.Count} arguments, {arguments.Count} given");
            }
            var scope = new Scope(definitionScope);
            for (int i = 0; i < macro.Parameters.Count; i++)
            {
                (string name, Expr? defaultValue) = macro.Parameters[i];
                object? value = i < arguments.Count ? arguments[i]
                    : keywords.TryGetValue(name, out object? keyword) ? keyword
                    : defaultValue is not null ? Evaluate(defaultValue, definitionScope)
                    : new Undefined($"macro '{macro.Name}' was called without '{name}'");
                scope.Set(name, value);
            }
            if (++_macroDepth > MaxMacroDepth)
            {
                throw new ChatTemplateException($"macro '{macro.Name}' recursed more than {MaxMacroDepth} levels");
            }
            try
            {
                var output = new StringBuilder();
                RenderNodes(macro.Body, scope, output, loopDepth: 0);
                return output.ToString();
            }
            finally
            {
                _macroDepth--;
            }
        });

    private object? Evaluate(Expr expression, Scope scope)
    {
        switch (expression)
        {
            case LiteralExpr literal:
                return literal.Value;
            case ListExpr list:
                List<object?> items = list.IsTuple ? new TupleValue() : new List<object?>();
                items.AddRange(list.Items.Select(item => Evaluate(item, scope)));
                return items;
            case DictExpr dictionary:
                var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach ((Expr key, Expr value) in dictionary.Entries)
                {
                    result[Evaluate(key, scope) as string ?? throw new ChatTemplateException("dictionary keys must be strings")] = Evaluate(value, scope);
                }
                return result;
            case NameExpr name:
                return scope.TryGet(name.Name, out object? variable) ? variable : new Undefined($"'{name.Name}' is undefined");
            case AttributeExpr attribute:
                return TemplateBuiltins.GetAttribute(Evaluate(attribute.Target, scope), attribute.Name);
            case ItemExpr item:
                return TemplateBuiltins.GetItem(Evaluate(item.Target, scope), Evaluate(item.Index, scope));
            case SliceExpr slice:
                return TemplateBuiltins.Slice(Evaluate(slice.Target, scope), Bound(slice.Start, scope), Bound(slice.Stop, scope), Bound(slice.Step, scope));
            case CallExpr call:
                return Call(call, scope);
            case FilterExpr filter:
                return TemplateBuiltins.ApplyFilter(filter.Name, Evaluate(filter.Target, scope), Arguments(filter.Name, filter.Arguments, filter.Keywords, scope));
            case TestExpr test:
                bool passed = TemplateBuiltins.ApplyTest(test.Name, Evaluate(test.Target, scope), Arguments(test.Name, test.Arguments, [], scope));
                return passed != test.Negated;
            case UnaryExpr unary:
                object? operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !TemplateValues.IsTruthy(operand),
                    "-" => TemplateOperators.Negate(operand),
                    _ => operand is Undefined undefined ? throw undefined.Error() : operand,
                };
            case BinaryExpr binary:
                return TemplateOperators.Binary(binary.Operator, Evaluate(binary.Left, scope), Evaluate(binary.Right, scope));
            case LogicalExpr logical:
                object? left = Evaluate(logical.Left, scope);
                return logical.IsAnd
                    ? (TemplateValues.IsTruthy(left) ? Evaluate(logical.Right, scope) : left)
                    : (TemplateValues.IsTruthy(left) ? left : Evaluate(logical.Right, scope));
            case CompareExpr compare:
                object? current = Evaluate(compare.First, scope);
                foreach ((string op, Expr operandExpression) in compare.Rest)
                {
                    object? next = Evaluate(operandExpression, scope);
                    if (!TemplateOperators.Compare(op, current, next))
                    {
                        return false;
                    }
                    current = next;
                }
                return true;
            case ConditionalExpr conditional:
                return TemplateValues.IsTruthy(Evaluate(conditional.Condition, scope))
                    ? Evaluate(conditional.Then, scope)
                    : conditional.Otherwise is null
                        ? new Undefined("the inline if-expression evaluated to false and has no else part")
                        : Evaluate(conditional.Otherwise, scope);
            default:
                throw new InvalidOperationException($"unknown expression {expression.GetType().Name}");
        }
    }

    private object? Call(CallExpr call, Scope scope)
    {
        object? callee = Evaluate(call.Callee, scope);
        List<object?> arguments = call.Arguments.Select(a => Evaluate(a, scope)).ToList();
        var keywords = call.Keywords.ToDictionary(k => k.Name, k => Evaluate(k.Value, scope), StringComparer.Ordinal);
        return callee switch
        {
            TemplateFunction function => function.Invoke(arguments, keywords),
            Undefined undefined => throw (call.Callee is AttributeExpr method
                ? new ChatTemplateException($"method '{method.Name}' is not supported by this template engine (or the value has no such method)")
                : undefined.Error()),
            _ => throw new ChatTemplateException($"'{TemplateValues.TypeName(callee)}' object is not callable"),
        };
    }

    private TemplateArguments Arguments(string callee, IReadOnlyList<Expr> arguments, IReadOnlyList<(string Name, Expr Value)> keywords, Scope scope) =>
        new(callee, arguments.Select(a => Evaluate(a, scope)).ToList(),
            keywords.ToDictionary(k => k.Name, k => Evaluate(k.Value, scope), StringComparer.Ordinal));

    private long? Bound(Expr? expression, Scope scope) => expression is null ? null : Evaluate(expression, scope) switch
    {
        null => null,
        long l => l,
        bool b => b ? 1 : 0,
        object other => throw new ChatTemplateException($"slice indices must be integers or none, not {TemplateValues.TypeName(other)}"),
    };

    private static List<object?> Range(TemplateArguments arguments)
    {
        long start = 0;
        long stop;
        long step = 1;
        if (arguments.Count == 1)
        {
            stop = arguments.GetInteger(0, "stop") ?? 0;
        }
        else
        {
            start = arguments.GetInteger(0, "start") ?? 0;
            stop = arguments.GetInteger(1, "stop") ?? 0;
            step = arguments.GetInteger(2, "step", 1) ?? 1;
        }
        if (step == 0)
        {
            throw new ChatTemplateException("range() step must not be zero");
        }
        long count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        if (count > MaxRange)
        {
            throw new ChatTemplateException(string.Create(CultureInfo.InvariantCulture, $"range() of {count} items is larger than the allowed {MaxRange}"));
        }
        var values = new List<object?>((int)count);
        for (long i = 0, value = start; i < count; i++, value += step)
        {
            values.Add(value);
        }
        return values;
    }

    private static Namespace MakeNamespace(List<object?> arguments, Dictionary<string, object?> keywords)
    {
        var ns = new Namespace();
        if (arguments.Count > 0 && arguments[0] is Dictionary<string, object?> initial)
        {
            foreach ((string key, object? value) in initial)
            {
                ns.Attributes[key] = value;
            }
        }
        foreach ((string key, object? value) in keywords)
        {
            ns.Attributes[key] = value;
        }
        return ns;
    }
}
