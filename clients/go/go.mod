module github.com/camd/camd/clients/go

go 1.19
