// What the app's identity may do: blobs (deployment package and the host's own
// state), queues and tables of the one storage account, and publish metrics.
param storageAccountName string
param applicationInsightsName string
param principalId string
@description('An operator (AZURE_PRINCIPAL_ID) who reads and repairs data by hand with Entra ID; empty: none.')
param operatorPrincipalId string = ''

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageRoles = [
  storageBlobDataOwner
  storageQueueDataContributor
  storageTableDataContributor
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, principalId, role)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

// The runbook's by-hand steps (a poison message, a learner's rows) use `--auth-mode
// login`: shared keys are off, so an operator needs data roles, never a key.
var operatorRoles = [
  storageBlobDataContributor
  storageQueueDataContributor
  storageTableDataContributor
]

resource operatorAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in (empty(operatorPrincipalId) ? [] : operatorRoles): {
  name: guid(storage.id, operatorPrincipalId, role)
  scope: storage
  properties: {
    principalId: operatorPrincipalId
    principalType: 'User'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource metricsAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}
