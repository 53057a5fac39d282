// The one storage account: no shared keys, no public blobs, TLS 1.2, and every table
// and queue the code uses declared (tests/unit/test_infra.py checks the names
// against shared/adapters/names.py). With vnetEnabled, public network access is off
// and the app reaches it through private endpoints (app/network.bicep).
param name string
param location string
param tags object
param vnetEnabled bool = false

var deploymentContainerName = 'app-package'
var tableNames = [
  'learners'
  'partnerusers'
  'creditwakes'
  'skillsreport'
  'reportremovals'
  'activity'
  'webhooks'
  'expirywarnings'
  'intents'
  'orgsettings'
  'organizations'
]
var queueNames = [
  'learning-events'
  'learning-events-poison'
  'credits-due'
  'credits-due-poison'
  'webhook-deliveries'
  'webhook-deliveries-poison'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: vnetEnabled ? 'None' : 'AzureServices'
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
    }
  }
}

// Child resources are declared beside their parent (not nested), so that every one
// of them is visible to the offline checks (pycep keeps one nested child per parent).
resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in tableNames: {
  parent: tableService
  name: tableName
}]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output tableEndpoint string = storage.properties.primaryEndpoints.table
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output deploymentContainerName string = deploymentContainerName
