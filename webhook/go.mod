module github.com/heraldhq/herald/webhook

go 1.24.0
