package onnx

import "github.com/gomlx/gomlx/backends"

// The element-wise ops below are recorded with no attributes; the emitter maps
// each by name (see emit_elementwise.go).

// Abs records the element-wise op.
func (b *recBuilder) Abs(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Abs(x)
	return b.record("Abs", op, err, nil, x)
}

// Ceil records the element-wise op.
func (b *recBuilder) Ceil(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Ceil(x)
	return b.record("Ceil", op, err, nil, x)
}

// Cos records the element-wise op.
func (b *recBuilder) Cos(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Cos(x)
	return b.record("Cos", op, err, nil, x)
}

// Erf records the element-wise op.
func (b *recBuilder) Erf(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Erf(x)
	return b.record("Erf", op, err, nil, x)
}

// Exp records the element-wise op.
func (b *recBuilder) Exp(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Exp(x)
	return b.record("Exp", op, err, nil, x)
}

// Expm1 records the element-wise op.
func (b *recBuilder) Expm1(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Expm1(x)
	return b.record("Expm1", op, err, nil, x)
}

// Floor records the element-wise op.
func (b *recBuilder) Floor(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Floor(x)
	return b.record("Floor", op, err, nil, x)
}

// Identity records the element-wise op.
func (b *recBuilder) Identity(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Identity(x)
	return b.record("Identity", op, err, nil, x)
}

// IsFinite records the element-wise op.
func (b *recBuilder) IsFinite(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.IsFinite(x)
	return b.record("IsFinite", op, err, nil, x)
}

// IsNaN records the element-wise op.
func (b *recBuilder) IsNaN(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.IsNaN(x)
	return b.record("IsNaN", op, err, nil, x)
}

// Log records the element-wise op.
func (b *recBuilder) Log(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Log(x)
	return b.record("Log", op, err, nil, x)
}

// Log1p records the element-wise op.
func (b *recBuilder) Log1p(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Log1p(x)
	return b.record("Log1p", op, err, nil, x)
}

// LogicalNot records the element-wise op.
func (b *recBuilder) LogicalNot(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.LogicalNot(x)
	return b.record("LogicalNot", op, err, nil, x)
}

// Logistic records the element-wise op.
func (b *recBuilder) Logistic(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Logistic(x)
	return b.record("Logistic", op, err, nil, x)
}

// Neg records the element-wise op.
func (b *recBuilder) Neg(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Neg(x)
	return b.record("Neg", op, err, nil, x)
}

// Round records the element-wise op.
func (b *recBuilder) Round(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Round(x)
	return b.record("Round", op, err, nil, x)
}

// Rsqrt records the element-wise op.
func (b *recBuilder) Rsqrt(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Rsqrt(x)
	return b.record("Rsqrt", op, err, nil, x)
}

// Sign records the element-wise op.
func (b *recBuilder) Sign(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Sign(x)
	return b.record("Sign", op, err, nil, x)
}

// Sin records the element-wise op.
func (b *recBuilder) Sin(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Sin(x)
	return b.record("Sin", op, err, nil, x)
}

// Sqrt records the element-wise op.
func (b *recBuilder) Sqrt(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Sqrt(x)
	return b.record("Sqrt", op, err, nil, x)
}

// Tanh records the element-wise op.
func (b *recBuilder) Tanh(x backends.Op) (backends.Op, error) {
	op, err := b.Builder.Tanh(x)
	return b.record("Tanh", op, err, nil, x)
}

// Add records the element-wise op.
func (b *recBuilder) Add(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Add(lhs, rhs)
	return b.record("Add", op, err, nil, lhs, rhs)
}

// Div records the element-wise op.
func (b *recBuilder) Div(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Div(lhs, rhs)
	return b.record("Div", op, err, nil, lhs, rhs)
}

// Equal records the element-wise op.
func (b *recBuilder) Equal(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Equal(lhs, rhs)
	return b.record("Equal", op, err, nil, lhs, rhs)
}

// GreaterOrEqual records the element-wise op.
func (b *recBuilder) GreaterOrEqual(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.GreaterOrEqual(lhs, rhs)
	return b.record("GreaterOrEqual", op, err, nil, lhs, rhs)
}

// GreaterThan records the element-wise op.
func (b *recBuilder) GreaterThan(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.GreaterThan(lhs, rhs)
	return b.record("GreaterThan", op, err, nil, lhs, rhs)
}

// LessOrEqual records the element-wise op.
func (b *recBuilder) LessOrEqual(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.LessOrEqual(lhs, rhs)
	return b.record("LessOrEqual", op, err, nil, lhs, rhs)
}

// LessThan records the element-wise op.
func (b *recBuilder) LessThan(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.LessThan(lhs, rhs)
	return b.record("LessThan", op, err, nil, lhs, rhs)
}

// LogicalAnd records the element-wise op.
func (b *recBuilder) LogicalAnd(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.LogicalAnd(lhs, rhs)
	return b.record("LogicalAnd", op, err, nil, lhs, rhs)
}

// LogicalOr records the element-wise op.
func (b *recBuilder) LogicalOr(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.LogicalOr(lhs, rhs)
	return b.record("LogicalOr", op, err, nil, lhs, rhs)
}

// LogicalXor records the element-wise op.
func (b *recBuilder) LogicalXor(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.LogicalXor(lhs, rhs)
	return b.record("LogicalXor", op, err, nil, lhs, rhs)
}

// Max records the element-wise op.
func (b *recBuilder) Max(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Max(lhs, rhs)
	return b.record("Max", op, err, nil, lhs, rhs)
}

// Min records the element-wise op.
func (b *recBuilder) Min(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Min(lhs, rhs)
	return b.record("Min", op, err, nil, lhs, rhs)
}

// Mul records the element-wise op.
func (b *recBuilder) Mul(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Mul(lhs, rhs)
	return b.record("Mul", op, err, nil, lhs, rhs)
}

// NotEqual records the element-wise op.
func (b *recBuilder) NotEqual(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.NotEqual(lhs, rhs)
	return b.record("NotEqual", op, err, nil, lhs, rhs)
}

// Pow records the element-wise op.
func (b *recBuilder) Pow(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Pow(lhs, rhs)
	return b.record("Pow", op, err, nil, lhs, rhs)
}

// Rem records the element-wise op.
func (b *recBuilder) Rem(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Rem(lhs, rhs)
	return b.record("Rem", op, err, nil, lhs, rhs)
}

// Sub records the element-wise op.
func (b *recBuilder) Sub(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Sub(lhs, rhs)
	return b.record("Sub", op, err, nil, lhs, rhs)
}

// Dot records the element-wise op.
func (b *recBuilder) Dot(lhs, rhs backends.Op) (backends.Op, error) {
	op, err := b.Builder.Dot(lhs, rhs)
	return b.record("Dot", op, err, nil, lhs, rhs)
}
